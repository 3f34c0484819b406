// SPDX-License-Identifier: GPL-2.0
/*
 * kab_sim: a trace-driven simulator of one host and N VMs, to measure the
 * kvm_autoballoon policy (kernel/virt/autoballoon/policy.c, built
 * unchanged) against published baselines and an oracle.
 *
 *   kab_sim -s SCENARIO -p POLICY [-S SEED] [-t TRACE.tsv]
 *	prints one line of metrics (TSV, see print_header()).
 *   kab_sim -H	prints the header of that line.
 *   kab_sim -c N -k host|guest [-i ITER]
 *	cost mode: N VMs in a busy state, then ITER host or guest events,
 *	for valgrind --tool=callgrind --toggle-collect=cost_host_events (or
 *	cost_guest_events).
 *
 * The model, in 100 ms steps (sizes in MiB):
 *
 * Guest i has size S, a balloon B (its actual size; A = S - B is what the
 * guest has), a working set W(t) from the scenario and a page cache C that
 * grows by the scenario's I/O rate into free memory. The guest keeps
 * min_free = 1 % of S free. When W + C no longer fits in A - min_free the
 * guest reclaims cache, as its vmpressure would see it: reclaim with
 * cache left is pressure "low", with less than 3 % of A in cache it is
 * "medium", and a working set that no longer fits in A - min_free is
 * "critical". W > A is unmet demand (the guest thrashes or swaps); W above
 * A by more than 5 % of S (a small zram swap) is a would-be OOM kill.
 *
 * The host has RAM H, a fixed base (kernel, QEMU overhead), each guest's
 * resident memory min(A, W + C + min_free) and its own page cache, which
 * grows with the host's own I/O (20 MiB/s) plus the guests' disk I/O (QEMU's
 * default cache=writeback caches guest I/O on the host too): the host has a
 * use for memory a balloon frees, as long as guests do I/O. When host free memory drops under the low watermark,
 * kswapd reclaims host cache (pressure low); when that cache is nearly gone
 * reclaim becomes costly (medium), and under the min watermark critical.
 * Memory the host still lacks after reclaim is a would-be host swap
 * (host shortfall).
 *
 * The balloon follows its target after a hand-off delay at a limited speed
 * (inflate 256 MiB/s, deflate 1 GiB/s per VM).
 *
 * Demand is generated from per-VM random streams seeded by scenario and
 * seed only, so every policy sees exactly the same demand, and every run
 * with the same seed prints the same numbers.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

#define DT		0.1		/* s per step */
#define PAGES_PER_MIB	256.0
#define INFLATE_RATE	256.0		/* MiB/s */
#define DEFLATE_RATE	1024.0		/* MiB/s */
#define HANDOFF		0.05		/* s from decision to VMM */
#define GUEST_MIN_FREE	0.01		/* of S */
#define GUEST_SWAP	0.05		/* of S, before a would-be OOM */
#define MEDIUM_CACHE	0.03		/* of A: less cache is medium */
#define HOST_PERIOD	0.5		/* s between host pressure events */
#define TICK_PERIOD	1.0		/* s between policy ticks */
#define REPORT_LOW	1.0		/* s between guest low reports */
#define REPORT_HIGH	0.2		/* s between medium/critical reports */
#define TRACE_PERIOD	10.0		/* s between trace lines */
#define NSEC		1000000000ULL

enum policy_kind { POL_KAB, POL_STATIC, POL_MOM, POL_XEN, POL_CHROMEOS,
		   POL_ORACLE, NR_POLICIES };

static const char * const policy_names[NR_POLICIES] = {
	"kab", "static", "mom", "xen", "chromeos", "oracle",
};

enum demand_kind { DEM_PHASE, DEM_KBUILD, DEM_IDLE, DEM_CYCLE };

struct rng {
	unsigned long long s;
};

static double rng_uniform(struct rng *r)
{
	r->s = r->s * 6364136223846793005ULL + 1442695040888963407ULL;
	return ((r->s >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_exp(struct rng *r, double mean)
{
	return -mean * log(rng_uniform(r));
}

static double rng_lognormal(struct rng *r, double median, double sigma)
{
	double u1 = rng_uniform(r), u2 = rng_uniform(r);
	double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);

	return median * exp(sigma * z);
}

/* Working set generator of one VM: a function of time only. */
struct demand {
	enum demand_kind kind;
	struct rng rng;
	double size;
	double level, goal;		/* phase level and where it heads */
	double next_phase;
	double spike, spike_goal, spike_end, next_spike;
	double lo, hi;			/* phase range, fraction of size */
	double cycle_offset;
	double io_rate;			/* page cache growth, MiB/s */
	double ws;			/* current working set */
};

struct sim_vm {
	struct demand dem;
	double size, floor;
	double ws, cache, balloon;
	double target;			/* as applied by the VMM */
	double pending, pending_at;	/* hand-off */
	unsigned long long seen_seq;
	unsigned int level;
	double last_report;
	int last_dir;
	bool unmet, oom;
	double unmet_since;
	/* baselines */
	double block_inflate_until, block_deflate_until;
	struct kab_policy_vm pol;
};

struct scenario {
	const char *name;
	const char *what;
	unsigned int nr;
	double duration;		/* s */
	double vm_size[3];		/* sizes cycled over VMs, MiB */
	double host_ratio;		/* H - base = ratio * sum(S) */
	void (*init)(struct sim_vm *vm, unsigned int i, unsigned int nr);
};

struct metrics {
	double reclaimed;		/* MiB * s */
	double unmet;			/* VM * s */
	unsigned long ooms;
	double shortfall;		/* MiB * s */
	double host_idle;		/* MiB * s of host memory nobody used */
	double churn;			/* MiB */
	unsigned long dir_changes;
	double unmet_episode_sum;
	unsigned long unmet_episodes;
};

struct host {
	double ram, base, cache, io_rate;
	double free;
	unsigned int level;		/* of this step */
	unsigned int window_level;	/* highest since the last event */
};

static struct kab_policy_params params;

/* -o name=value overrides of policy tunables, applied after the defaults. */
#define MAX_OVERRIDES	32
static const char *overrides[MAX_OVERRIDES];
static unsigned int nr_overrides;

static int apply_overrides(void)
{
	unsigned int i, k;
	size_t len;

	kab_policy_defaults(&params);
	for (k = 0; k < nr_overrides; k++) {
		const char *eq = strchr(overrides[k], '=');

		len = eq ? (size_t)(eq - overrides[k]) : 0;
		for (i = 0; i < kab_policy_nr_tunables; i++) {
			const struct kab_policy_tunable *t =
				&kab_policy_tunables[i];
			unsigned long long v;

			if (!eq || strlen(t->name) != len ||
			    strncmp(t->name, overrides[k], len))
				continue;
			v = strtoull(eq + 1, NULL, 0);
			if (v < t->min || v > t->max) {
				fprintf(stderr, "%s out of range\n",
					overrides[k]);
				return -1;
			}
			*(u64 *)((char *)&params + t->offset) = v;
			break;
		}
		if (i == kab_policy_nr_tunables) {
			fprintf(stderr, "unknown tunable: %s\n", overrides[k]);
			return -1;
		}
	}
	return 0;
}

/* ---- demand ---- */

static void demand_phase_init(struct demand *d, double lo, double hi)
{
	d->kind = DEM_PHASE;
	d->lo = lo;
	d->hi = hi;
	d->level = d->goal = d->size * (lo + (hi - lo) * rng_uniform(&d->rng));
	d->next_phase = rng_exp(&d->rng, 600);
	d->next_spike = rng_exp(&d->rng, 900);
	d->io_rate = 8;
}

static void demand_step(struct demand *d, double t)
{
	double period, phase, peak;

	switch (d->kind) {
	case DEM_PHASE:
		if (t >= d->next_phase) {
			d->goal = d->size * (d->lo + (d->hi - d->lo) *
					     rng_uniform(&d->rng));
			d->next_phase = t + rng_exp(&d->rng, 600);
		}
		/* Processes free at once; they fill memory at 64 MiB/s. */
		if (d->goal < d->level)
			d->level = d->goal;
		else
			d->level = fmin(d->goal, d->level + 64 * DT);
		if (t >= d->next_spike && !d->spike_goal) {
			d->spike_goal = d->size * (0.15 + 0.2 *
						   rng_uniform(&d->rng));
			d->spike_end = t + fmin(600, rng_lognormal(&d->rng,
								  40, 0.8));
		}
		if (d->spike_goal) {
			d->spike = fmin(d->spike_goal, d->spike + 256 * DT);
			if (t >= d->spike_end) {
				d->spike = d->spike_goal = 0;
				d->next_spike = t + rng_exp(&d->rng, 900);
			}
		}
		d->ws = fmin(d->level + d->spike, 0.9 * d->size);
		break;
	case DEM_KBUILD:
		/* idle 120-240 s, then a build ramping for 240-480 s */
		if (t >= d->next_phase) {
			d->spike_end = t + 120 + 120 * rng_uniform(&d->rng);
			d->next_phase = d->spike_end + 240 +
					240 * rng_uniform(&d->rng);
			d->goal = d->size * (0.5 + 0.25 * rng_uniform(&d->rng));
		}
		if (t < d->spike_end) {
			d->ws = 0.1 * d->size;
			d->io_rate = 1;
		} else {
			peak = (t - d->spike_end) /
			       (d->next_phase - d->spike_end);
			d->ws = 0.1 * d->size + peak * (d->goal -
							0.1 * d->size);
			d->io_rate = 20;
		}
		break;
	case DEM_IDLE:
		d->ws = 0.08 * d->size;
		break;
	case DEM_CYCLE:
		period = 1200;
		phase = fmod(t + d->cycle_offset, period);
		if (phase < 600) {
			d->ws = 0.15 * d->size;
			d->level = d->ws;
		} else {
			d->level = fmin(0.75 * d->size, d->level + 128 * DT);
			d->ws = d->level;
		}
		break;
	}
}

static void vm_common_init(struct sim_vm *vm, double size)
{
	vm->size = size;
	vm->dem.size = size;
	vm->floor = fmax(256, 0.1 * size);
}

static void init_phase(struct sim_vm *vm, unsigned int i, unsigned int nr)
{
	(void)i;
	(void)nr;
	demand_phase_init(&vm->dem, 0.2, 0.55);
}

static void init_kbuild(struct sim_vm *vm, unsigned int i, unsigned int nr)
{
	(void)i;
	(void)nr;
	vm->dem.kind = DEM_KBUILD;
	vm->dem.next_phase = 0;
}

static void init_idle(struct sim_vm *vm, unsigned int i, unsigned int nr)
{
	(void)nr;
	if (i % 2) {
		demand_phase_init(&vm->dem, 0.2, 0.55);
		return;
	}
	vm->dem.kind = DEM_IDLE;
	vm->dem.io_rate = 0;
	vm->cache = 0.75 * vm->size;	/* hoarded long ago */
}

static void init_cycle(struct sim_vm *vm, unsigned int i, unsigned int nr)
{
	(void)nr;
	vm->dem.kind = DEM_CYCLE;
	vm->dem.cycle_offset = 150.0 * i;
	vm->dem.io_rate = 4;
}

static const struct scenario scenarios[] = {
	{ "phase", "16 VMs, phase changes every ~10 min, overloads of +15-35 % mostly < 2 min",
	  16, 7200, { 4096, 8192, 2048 }, 0.62, init_phase },
	{ "kbuild", "8 VMs, kernel-build-like ramps to 50-75 % then a drop",
	  8, 7200, { 4096, 8192, 4096 }, 0.72, init_kbuild },
	{ "idle", "16 VMs, half idle hoarding 75 % of their RAM as page cache",
	  16, 7200, { 4096, 4096, 8192 }, 0.50, init_idle },
	{ "reinflate", "4 VMs, 10 min at 15 %, 10 min at 75 %: deflate and re-inflate with demand",
	  4, 7200, { 8192, 8192, 8192 }, 0.80, init_cycle },
	{ "n1024", "1024 VMs of 2-4 GiB, phase changes and overloads",
	  1024, 3600, { 2048, 4096, 2048 }, 0.62, init_phase },
};

/* ---- policies ---- */

static void set_target(struct sim_vm *vm, double target, double now)
{
	target = fmin(fmax(target, 0), vm->size - vm->floor);
	if (fabs(target - vm->pending) < 1e-9)
		return;
	/* The VMM applies the newest target, a hand-off after the first. */
	if (vm->pending == vm->target)
		vm->pending_at = now + HANDOFF;
	vm->pending = target;
}

/* kvm_autoballoon: feed events to policy.c exactly as the module does. */
static void kab_step(struct sim_vm *vms, unsigned int nr, struct host *h,
		     struct kab_policy_vm **pols, double t, bool host_due,
		     bool tick_due)
{
	unsigned long long now = (unsigned long long)(t * NSEC) + NSEC;
	unsigned int i;

	if (host_due && h->window_level)
		kab_policy_host_event(&params, pols, nr, h->window_level, now);
	for (i = 0; i < nr; i++) {
		struct sim_vm *vm = &vms[i];
		double every = vm->level >= KAB_LEVEL_MEDIUM ? REPORT_HIGH :
							       REPORT_LOW;

		if (vm->level && t - vm->last_report >= every - 1e-9) {
			kab_policy_guest_event(&params, &vm->pol, vm->level, 1,
					       now);
			vm->last_report = t;
		}
		if (tick_due)
			kab_policy_tick(&params, &vm->pol, now);
		if (vm->pol.seq != vm->seen_seq) {
			vm->seen_seq = vm->pol.seq;
			set_target(vm, vm->pol.target_pages / PAGES_PER_MIB, t);
		}
	}
}

/*
 * oVirt MOM's balloon rules: every 10 s, host free (free + cache, as MOM's
 * collector counts it) under 20 % shrinks each guest by up to 5 % down to
 * its used memory plus a free share scaled by host pressure (negative
 * under 5 %: force the guest to give), else grow by 5 %; changes under
 * 0.25 % are ignored.
 */
static void mom_step(struct sim_vm *vms, unsigned int nr, struct host *h,
		     double t)
{
	double host_free = (h->free + h->cache) / h->ram;
	unsigned int i;

	for (i = 0; i < nr; i++) {
		struct sim_vm *vm = &vms[i];
		double cur = vm->size - vm->balloon;
		double unused = fmax(0, cur - vm->ws - vm->cache);
		double used = cur - unused, gfp, bmin, size;

		if (host_free < 0.20) {
			gfp = host_free <= 0.05 ? host_free - 0.05 :
				0.20 * host_free / 0.20;
			bmin = fmax(vm->floor, used + gfp * cur);
			size = cur * 0.95;
			if (size < bmin)
				size = bmin;
		} else {
			bmin = used + 0.20 * cur;
			size = fmin(cur * 1.05, vm->size);
			if (size < bmin)
				size = bmin;
		}
		size = fmin(size, vm->size);
		if (fabs(size - cur) > 0.0025 * cur)
			set_target(vm, vm->size - size, t);
	}
}

/*
 * Xen self-ballooning: every 5 s each guest heads for committed memory plus
 * its reserve, all the way up at once, down by 1/8 of the gap (down
 * hysteresis 8). It does not look at the host.
 */
static void xen_step(struct sim_vm *vms, unsigned int nr, double t)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		struct sim_vm *vm = &vms[i];
		double cur = vm->size - vm->balloon;
		double goal = vm->ws + GUEST_MIN_FREE * vm->size;

		if (cur > goal)
			cur -= (cur - goal) / 8;
		else
			cur = goal;
		set_target(vm, vm->size - cur, t);
	}
}

/*
 * ChromeOS-style: every second, keep host available memory above a 10 %
 * margin by taking guest cache (split evenly), give a guest under pressure
 * what it needs back, and block the opposite direction after a move: no
 * inflation for 10 s after a deflate for medium pressure, 100 s after
 * critical, no deflation for 10 s after an inflation unless critical.
 */
static void chromeos_step(struct sim_vm *vms, unsigned int nr, struct host *h,
			  double t)
{
	double avail = h->free + h->cache, deficit = 0.10 * h->ram - avail;
	unsigned int i, donors = 0;

	for (i = 0; i < nr; i++)
		donors += vms[i].cache > 0 && !vms[i].level;
	for (i = 0; i < nr; i++) {
		struct sim_vm *vm = &vms[i];
		double need;

		if (vm->level >= KAB_LEVEL_MEDIUM) {
			if (t < vm->block_deflate_until &&
			    vm->level < KAB_LEVEL_CRITICAL)
				continue;
			need = vm->ws + 0.05 * vm->size -
			       (vm->size - vm->balloon);
			if (need < 0.02 * vm->size)
				need = 0.02 * vm->size;
			set_target(vm, vm->balloon - need, t);
			vm->block_inflate_until = t +
				(vm->level == KAB_LEVEL_CRITICAL ? 100 : 10);
			continue;
		}
		if (deficit > 0 && donors && !vm->level && vm->cache > 0 &&
		    t >= vm->block_inflate_until) {
			set_target(vm, vm->balloon +
				   fmin(vm->cache, deficit / donors), t);
			vm->block_deflate_until = t + 10;
		}
	}
}

/* The oracle knows the working set 5 s ahead and leaves only min_free. */
static void oracle_step(struct sim_vm *vms, unsigned int nr, double t,
			const double *ws_ahead)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		set_target(&vms[i], vms[i].size - ws_ahead[i] -
			   GUEST_MIN_FREE * vms[i].size, t);
}

/* ---- the world ---- */

static void guest_step(struct sim_vm *vm)
{
	double min_free = GUEST_MIN_FREE * vm->size;
	double a = vm->size - vm->balloon, room = a - min_free;
	bool reclaimed = false;

	vm->cache += vm->dem.io_rate * DT;
	if (vm->ws + vm->cache > room) {
		vm->cache = fmax(0, room - vm->ws);
		reclaimed = true;
	}
	if (vm->ws >= room)
		vm->level = KAB_LEVEL_CRITICAL;
	else if (reclaimed)
		vm->level = vm->cache < MEDIUM_CACHE * a ? KAB_LEVEL_MEDIUM :
							   KAB_LEVEL_LOW;
	else
		vm->level = KAB_LEVEL_NONE;
}

static void balloon_step(struct sim_vm *vm, double t, struct metrics *m)
{
	double old = vm->balloon, want;
	int dir;

	if (t >= vm->pending_at && vm->target != vm->pending) {
		dir = vm->pending > vm->target ? 1 : -1;
		if (vm->last_dir && dir != vm->last_dir)
			m->dir_changes++;
		vm->last_dir = dir;
		vm->target = vm->pending;
	}
	want = vm->target;
	if (want > old)
		vm->balloon = fmin(want, old + INFLATE_RATE * DT);
	else
		vm->balloon = fmax(want, old - DEFLATE_RATE * DT);
	m->churn += fabs(vm->balloon - old);
}

static void host_step(struct host *h, struct sim_vm *vms, unsigned int nr,
		      struct metrics *m)
{
	double resident = 0, wm_min = 0.005 * h->ram, wm_low = 0.01 * h->ram;
	double wm_high = 0.015 * h->ram, need, take, io;
	unsigned int i;

	for (i = 0; i < nr; i++) {
		struct sim_vm *vm = &vms[i];
		double a = vm->size - vm->balloon;

		resident += fmin(a, vm->ws + vm->cache +
				 GUEST_MIN_FREE * vm->size);
	}
	/* Guest disk I/O goes through the host page cache too (writeback). */
	io = h->io_rate;
	for (i = 0; i < nr; i++)
		io += vms[i].dem.io_rate;
	h->cache += io * DT;
	h->free = h->ram - h->base - resident - h->cache;
	h->level = KAB_LEVEL_NONE;
	if (h->free >= wm_low)
		return;
	need = wm_high - h->free;
	take = fmin(need, h->cache);
	h->cache -= take;
	h->free += take;
	if (take >= need && h->cache >= 0.01 * h->ram)
		h->level = KAB_LEVEL_LOW;
	else if (h->free >= wm_min)
		h->level = KAB_LEVEL_MEDIUM;
	else
		h->level = KAB_LEVEL_CRITICAL;
	if (h->free < 0)
		m->shortfall += -h->free * DT;
}

/* Host memory free above the high watermark: reclaimed for nothing. */
static void host_account(const struct host *h, struct metrics *m)
{
	double idle = h->free - 0.015 * h->ram;

	if (idle > 0)
		m->host_idle += idle * DT;
}

static void account(struct sim_vm *vm, double t, struct metrics *m)
{
	double a = vm->size - vm->balloon;
	bool unmet = vm->ws > a + 1e-9;
	bool oom = vm->ws > a + GUEST_SWAP * vm->size;

	m->reclaimed += vm->balloon * DT;
	if (unmet) {
		m->unmet += DT;
		if (!vm->unmet)
			vm->unmet_since = t;
	} else if (vm->unmet) {
		m->unmet_episode_sum += t - vm->unmet_since;
		m->unmet_episodes++;
	}
	if (oom && !vm->oom)
		m->ooms++;
	vm->unmet = unmet;
	vm->oom = oom;
}

static void print_header(void)
{
	printf("scenario\tpolicy\tnr_vms\thours\treclaimed_gibh\tunmet_pct\t"
	       "ooms\tshortfall_gibh\tchurn_gib\tdir_changes\treaction_s\t"
	       "host_idle_gibh\n");
}

static int run(const struct scenario *sc, enum policy_kind pk,
	       unsigned long long seed, const char *trace_path)
{
	unsigned int nr = sc->nr, i;
	struct sim_vm *vms = calloc(nr, sizeof(*vms));
	struct sim_vm *ahead = calloc(nr, sizeof(*ahead));
	struct kab_policy_vm **pols = calloc(nr, sizeof(*pols));
	double *ws_ahead = calloc(nr, sizeof(*ws_ahead));
	double sum_size = 0, sum_ws, sum_alloc, t;
	unsigned long step, nsteps = (unsigned long)(sc->duration / DT);
	unsigned int lookahead = (unsigned int)(5.0 / DT), k;
	struct metrics m = { 0 };
	struct host h = { 0 };
	FILE *trace = NULL;

	if (!vms || !ahead || !pols || !ws_ahead || apply_overrides())
		return 1;
	for (i = 0; i < nr; i++) {
		struct sim_vm *vm = &vms[i];

		vm->dem.rng.s = seed * 1000003ULL + i * 7919ULL + 1;
		vm_common_init(vm, sc->vm_size[i % 3]);
		sc->init(vm, i, nr);
		sum_size += vm->size;
		vm->pol.total_pages = (u64)(vm->size * PAGES_PER_MIB);
		vm->pol.floor_pages = (u64)(vm->floor * PAGES_PER_MIB);
		vm->pol.ceiling_pages = vm->pol.total_pages;
		vm->pol.weight = 100;
		if (kab_policy_vm_init(&params, &vm->pol, NSEC))
			return 1;
		vm->seen_seq = vm->pol.seq;
		vm->last_report = -1e9;
		pols[i] = &vm->pol;
		/* The oracle's look-ahead copy of the demand generator. */
		ahead[i].dem = vm->dem;
	}
	for (i = 0; i < nr; i++)
		for (k = 0; k < lookahead; k++)
			demand_step(&ahead[i].dem, k * DT);
	h.base = 1024 + 0.02 * sum_size;
	h.ram = h.base + sc->host_ratio * sum_size;
	h.io_rate = 20;

	if (trace_path) {
		trace = fopen(trace_path, "w");
		if (!trace)
			return 1;
		fprintf(trace, "t_min\tdemand_gib\tallocated_gib\t"
			"host_free_gib\tvm0_demand_gib\tvm0_allocated_gib\n");
	}

	for (step = 0; step < nsteps; step++) {
		t = step * DT;
		for (i = 0; i < nr; i++) {
			demand_step(&vms[i].dem, t);
			vms[i].ws = vms[i].dem.ws;
			demand_step(&ahead[i].dem, t + lookahead * DT);
			ws_ahead[i] = fmax(vms[i].ws, ahead[i].dem.ws);
		}
		for (i = 0; i < nr; i++)
			guest_step(&vms[i]);
		host_step(&h, vms, nr, &m);
		host_account(&h, &m);
		if (h.level > h.window_level)
			h.window_level = h.level;

		bool host_due = step % (unsigned long)(HOST_PERIOD / DT) == 0;
		bool tick_due = step % (unsigned long)(TICK_PERIOD / DT) == 0;

		switch (pk) {
		case POL_KAB:
			kab_step(vms, nr, &h, pols, t, host_due, tick_due);
			break;
		case POL_MOM:
			if (step % 100 == 0)
				mom_step(vms, nr, &h, t);
			break;
		case POL_XEN:
			if (step % 50 == 0)
				xen_step(vms, nr, t);
			break;
		case POL_CHROMEOS:
			if (tick_due)
				chromeos_step(vms, nr, &h, t);
			break;
		case POL_ORACLE:
			oracle_step(vms, nr, t, ws_ahead);
			break;
		default:
			break;
		}
		if (host_due)
			h.window_level = KAB_LEVEL_NONE;

		for (i = 0; i < nr; i++) {
			double old = vms[i].balloon;

			balloon_step(&vms[i], t, &m);
			if (pk == POL_KAB && vms[i].balloon != old)
				kab_policy_actual(&params, &vms[i].pol,
						  (u64)(vms[i].balloon *
							PAGES_PER_MIB),
						  (unsigned long long)(t * NSEC) +
						  NSEC);
			account(&vms[i], t, &m);
		}

		if (trace && step % (unsigned long)(TRACE_PERIOD / DT) == 0) {
			sum_ws = sum_alloc = 0;
			for (i = 0; i < nr; i++) {
				sum_ws += vms[i].ws;
				sum_alloc += vms[i].size - vms[i].target;
			}
			fprintf(trace, "%.2f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\n",
				t / 60, sum_ws / 1024, sum_alloc / 1024,
				h.free / 1024, vms[0].ws / 1024,
				(vms[0].size - vms[0].target) / 1024);
		}
	}
	for (i = 0; i < nr; i++)
		if (vms[i].unmet) {
			m.unmet_episode_sum += sc->duration - vms[i].unmet_since;
			m.unmet_episodes++;
		}

	printf("%s\t%s\t%u\t%.1f\t%.2f\t%.4f\t%lu\t%.3f\t%.1f\t%lu\t%.2f\t%.2f\n",
	       sc->name, policy_names[pk], nr, sc->duration / 3600,
	       m.reclaimed / 1024 / 3600, 100.0 * m.unmet / (nr * sc->duration),
	       m.ooms, m.shortfall / 1024 / 3600, m.churn / 1024,
	       m.dir_changes,
	       m.unmet_episodes ? m.unmet_episode_sum / m.unmet_episodes : 0,
	       m.host_idle / 1024 / 3600);
	if (trace)
		fclose(trace);
	free(vms);
	free(ahead);
	free(pols);
	free(ws_ahead);
	return 0;
}

/*
 * The measured loops, apart so that callgrind --toggle-collect=cost_*_events
 * counts them and not the warm-up; the few instructions of the loop itself
 * are counted too.
 */
static __attribute__((noinline)) void
cost_host_events(struct kab_policy_vm **pols, unsigned int nr,
		 unsigned int iters, unsigned long long now)
{
	unsigned int k;

	for (k = 0; k < iters; k++) {
		now += NSEC / 2;
		kab_policy_host_event(&params, pols, nr, 1 + k % 3, now);
	}
}

static __attribute__((noinline)) void
cost_guest_events(struct kab_policy_vm *vm, unsigned int nr,
		  unsigned int iters, unsigned long long now)
{
	unsigned int k;

	for (k = 0; k < iters; k++) {
		now += NSEC / 2;
		kab_policy_guest_event(&params, &vm[k % nr], 1 + k % 3, 1, now);
	}
}

/*
 * Cost mode: N VMs with varied limits, levels and histories, then @iters
 * events of one kind, in cost_host_events() or cost_guest_events(), set up
 * so that every event takes the policy's longest path.
 */
static int cost(unsigned int nr, const char *kind, unsigned int iters)
{
	struct kab_policy_vm *vm = calloc(nr, sizeof(*vm));
	struct kab_policy_vm **pols = calloc(nr, sizeof(*pols));
	unsigned long long now = 1000 * NSEC;
	struct rng r = { 12345 };
	unsigned int i, k;

	if (!vm || !pols || apply_overrides())
		return 1;
	/*
	 * The worst case: every host event inflates every VM (no cooldown, no
	 * cap, small steps that never reach a floor, and a lag bound of the
	 * whole VM, no guest level, mark or block held), every guest event
	 * passes the rate limit (which still runs) and deflates (no host
	 * level held).
	 */
	params.cooldown_ms = 0;
	params.max_step_percent = 100;
	params.min_change_pages = 0;
	for (i = 0; i < KAB_NR_LEVELS; i++) {
		params.host_step_pages[i] = 64;
		params.guest_step_pages[i] = 1;
	}
	params.host_hold_ms = 0;
	params.guest_hold_ms = 0;
	params.mark_ms = 0;
	params.block_after_inflate_ms = 0;
	params.block_after_deflate_ms = 0;
	params.block_after_critical_ms = 0;
	params.guest_hint_burst = 1000000;
	for (i = 0; i < nr; i++) {
		vm[i].total_pages = 1 << 20;
		vm[i].floor_pages = 1 << 16;
		vm[i].ceiling_pages = 1 << 20;
		vm[i].weight = 1 + i % 100;
		if (kab_policy_vm_init(&params, &vm[i], now))
			return 1;
		pols[i] = &vm[i];
	}
	/* Warm up: every VM has seen some of everything. */
	for (k = 0; k < 20; k++) {
		now += NSEC + (unsigned long long)(rng_uniform(&r) * NSEC);
		kab_policy_host_event(&params, pols, nr, 1 + k % 3, now);
		for (i = 0; i < nr; i++) {
			if (rng_uniform(&r) < 0.2)
				kab_policy_guest_event(&params, &vm[i],
						       1 + i % 3, 1, now);
			kab_policy_actual(&params, &vm[i],
					  vm[i].target_pages, now);
		}
	}
	if (!strcmp(kind, "host"))
		cost_host_events(pols, nr, iters, now);
	else
		cost_guest_events(vm, nr, iters, now);
	free(vm);
	free(pols);
	return 0;
}

static void usage(void)
{
	unsigned int i;

	fprintf(stderr, "usage: kab_sim -s SCENARIO -p POLICY [-S SEED] "
		"[-t TRACE] [-o TUNABLE=VALUE]...\n       kab_sim -H\n       kab_sim -c N -k "
		"host|guest [-i ITER]\nscenarios:");
	for (i = 0; i < ARRAY_SIZE(scenarios); i++)
		fprintf(stderr, " %s", scenarios[i].name);
	fprintf(stderr, "\npolicies:");
	for (i = 0; i < NR_POLICIES; i++)
		fprintf(stderr, " %s", policy_names[i]);
	fprintf(stderr, "\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *scenario = NULL, *policy = NULL, *trace = NULL;
	const char *kind = "host";
	unsigned long long seed = 1;
	unsigned int cost_nr = 0, iters = 100, i;
	int opt, pk = -1;

	while ((opt = getopt(argc, argv, "s:p:S:t:Hc:k:i:lo:")) != -1) {
		switch (opt) {
		case 's':
			scenario = optarg;
			break;
		case 'p':
			policy = optarg;
			break;
		case 'S':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 't':
			trace = optarg;
			break;
		case 'H':
			print_header();
			return 0;
		case 'c':
			cost_nr = strtoul(optarg, NULL, 0);
			break;
		case 'k':
			kind = optarg;
			break;
		case 'i':
			iters = strtoul(optarg, NULL, 0);
			break;
		case 'o':
			if (nr_overrides == MAX_OVERRIDES)
				usage();
			overrides[nr_overrides++] = optarg;
			break;
		case 'l':
			for (i = 0; i < ARRAY_SIZE(scenarios); i++)
				printf("%s\t%u\t%s\n", scenarios[i].name,
				       scenarios[i].nr, scenarios[i].what);
			return 0;
		default:
			usage();
		}
	}
	if (cost_nr)
		return cost(cost_nr, kind, iters);
	if (!scenario || !policy)
		usage();
	for (i = 0; i < NR_POLICIES; i++)
		if (!strcmp(policy, policy_names[i]))
			pk = i;
	if (pk < 0)
		usage();
	for (i = 0; i < ARRAY_SIZE(scenarios); i++)
		if (!strcmp(scenario, scenarios[i].name))
			return run(&scenarios[i], pk, seed, trace);
	usage();
	return 2;
}
