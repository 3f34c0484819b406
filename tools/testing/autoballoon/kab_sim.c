// SPDX-License-Identifier: GPL-2.0
/*
 * kab_sim: a simulator of one host and N VMs, to measure the kvm_autoballoon
 * policy (kernel/virt/autoballoon/policy.c, built unchanged) against
 * baselines, and to be checked against the real benchmark (bench/rfc) before
 * its figures are trusted (bench/policy/run.sh does both).
 *
 *   kab_sim -s SCENARIO -p POLICY [-r] [-F] [-d driver|reclaim|early] [-S SEED]
 *	   [-t TRACE.tsv] [-o TUNABLE=VALUE]...
 *	prints one line of metrics (TSV, see print_header()).
 *	-r turns free page reporting on in every guest; -d picks the guest's
 *	pressure detector (default driver, pressure.c as it is); -F withholds
 *	the guest's and the host's figures from the kab policy.
 *   kab_sim -H	prints the header of that line; -l lists the scenarios;
 *	-C prints the bench machine's constants; -m NAME=VALUE overrides one
 *	(ram, base, kern, kern_host, guest_cold, base_cold, touch_ms, io_ms,
 *	page_ms, fault_ms, inflate_rate, deflate_rate, balloon_old,
 *	balloon_trend), to fit it (bench/policy/fit.py) or to
 *	see how much a figure depends on it.
 *   kab_sim -c N -k host|guest [-i ITER]
 *	cost mode: N VMs in a busy state, then ITER host or guest events,
 *	for valgrind --tool=callgrind --toggle-collect=cost_host_events (or
 *	cost_guest_events).
 *
 * The model runs in 100 ms steps; sizes are MiB, outputs in pages are 4 KiB.
 *
 * Guest memory. A guest of size S with a balloon B has A = S - B. It holds
 * its kernel K (never given up; of it, K_host is resident on the host),
 * anonymous memory (a working set from a trace, or a build job's region),
 * page cache (cold: touched once, a job's objects; and a job's sources,
 * read every round: reclaim takes the cold first), and free memory. On
 * the bench machine some free memory was touched while the guest booted
 * (guest_cold): resident, under the never-touched pages. Free memory
 * is of three kinds, as the host sees it: touched and resident on the host,
 * touched and swapped out by the host, and not backed (never touched,
 * returned by free page reporting, or just deflated). Free memory is a stack
 * of runs by recency (struct free_seg): the guest allocates the pages it
 * freed last first, as the buddy allocator hands out hot pages first, so a
 * job's next round reuses its last round's pages (a host swap-in where the
 * host swapped them out) and pages just deflated are faulted in before old
 * free pages are reused; the host swaps free pages out, and free page
 * reporting reports them, oldest first. Zone
 * watermarks follow Linux (min_free_kbytes = 4 sqrt(KiB), low/high from
 * watermark_scale_factor 10). Free memory under the low watermark wakes
 * kswapd, which reclaims page cache; an allocation under the min watermark
 * stalls in direct reclaim; an allocation that still does not fit goes to the
 * guest's swap if it has one (trace guests: 5 % of S), else the OOM killer
 * kills the workload (a job restarts from its first round, as kab_guest's
 * does, 0.2 s later; a trace workload comes back after 1 s). The balloon
 * takes free pages above the low watermark, reclaiming page cache for them,
 * never anonymous memory. Free page reporting (-r) reports up to FPR_BATCH
 * of free touched memory every 2 s once memory was freed (Linux's
 * PAGE_REPORTING_DELAY), keeping free memory above the high watermark; a
 * reported page, like a deflated or never-touched one, costs the guest a
 * host fault (fault_ms) when it is used again.
 *
 * Guest pressure signals come from one function, detect(), which models a
 * detector (-d):
 * - driver (the default): guest/drivers/virtio/pressure.c as it is, see
 *   evaluate_driver(): the trend of available memory (the balloon's own
 *   motion left out) and reclaim's counters, every 500 ms while the
 *   balloon holds pages, reclaim ran or under 25 % is available; the
 *   rate limits and the OOM notifier of reclaim below; committed memory
 *   in its figures.
 * - reclaim: the driver before the trend. Only reclaim
 *   (a shrinker call) arms an evaluation 100 ms later; available memory
 *   under 10 % of the guest's RAM gates every level; low = reclaim ran,
 *   medium = a stall or reclaim efficiency < 40 %, critical = a stall under
 *   2 % available or efficiency < 5 %; an OOM kill since the last
 *   evaluation, and the OOM notifier, report critical. Rate limit per
 *   level: one report per 10 s / 2 s / 0.5 s.
 * - early: a periodic detector that does not wait for reclaim: every 500 ms
 *   it compares free memory with the watermarks, MemAvailable with 10 / 5 /
 *   2 % of RAM and the time to exhaustion at the current rate of
 *   consumption (< 30 / 10 / 2 s), and rings low / medium / critical;
 *   rate limit 2 s / 1 s / 0.5 s; the OOM notifier as above.
 * Guest statistics (available, free, cache, total; committed unless the
 * detector is reclaim's) reach the policy side once a second (struct
 * guest_stats); MOM, ChromeOS and the kvm_autoballoon policy read them
 * (the latter unless -F).
 *
 * Host memory. The host has RAM H, a base use (its kernel, QEMU; possibly
 * partly cold, base_cold), its own page cache (grown by host and
 * guest disk I/O, except on the rfc machine), and each guest's resident
 * memory: what the guest has touched (its high-water mark) minus what the
 * balloon or free page reporting took back and what the host swapped out.
 * Free memory a guest does not report stays resident. Under the low
 * watermark the host reclaims to its high watermark: its page cache, then
 * memory to swap, coldest first (its own cold memory; guest free pages and
 * guest page cache touched once, together; then the anonymous memory and
 * sources the guests touch), each class from all guests in proportion.
 * Watermarks: Linux's, min_free_kbytes raised by khugepaged on the bench
 * machine. Host pressure, sent to the policy every 0.5 s as the highest level
 * seen: low while page cache and cold memory
 * suffice, medium when hot guest memory goes to swap, critical when one
 * step swaps out more than kswapd's share of the CPUs can write (the
 * allocating tasks reclaim directly) or swap is full. Swap is zram: each MiB
 * swapped costs zram_ratio MiB of RAM. pswpout/pswpin count pages moved; a
 * guest touching swapped-out memory (a job's next pass, a trace's working
 * set within ws_window, a reused free page, a page the balloon zeroes under
 * init_on_alloc=1) swaps it in.
 *
 * Time. The host's CPUs (cpus: 1 on the rfc machine, one per VM elsewhere)
 * are shared evenly, each taking at most one CPU, among the host's swap
 * work (kswapd, page_ms per MiB swapped out; what it cannot do in a step is
 * owed to the next) and the VMs with work; within a VM the job and the
 * balloon share its vCPU evenly, and what one does not need goes to the
 * others. A job pays touch_ms per MiB per pass (rfc machine: fitted;
 * elsewhere 1, assumed), io_ms per MiB of file I/O (fitted), page_ms per
 * MiB it swaps in (rfc machine: 1/22 s, assumed equal to a balloon page;
 * elsewhere 1 ms, zram on hardware) and fault_ms per MiB the host faults
 * in (rfc machine: measured, 6 ms; elsewhere 0); the
 * balloon pays 1/inflate_rate or 1/deflate_rate seconds of its vCPU per
 * MiB (rfc machine: 22 and 121 MiB/s, the nested guest; elsewhere 95 and
 * 475 MiB/s, bench/guest), plus page_ms per MiB it swaps in. A trace
 * workload is not CPU bound: the time it loses is its swap-in time (lost).
 *
 * The unavoidable minimum host swap-out of a workload (min_pswpout) is what
 * an oracle knowing every working set would still have to swap: with
 * instant, free ballooning and reporting, the host holds exactly K_host
 * plus the working set of each guest (a job's round, its sources, the
 * objects it is writing), and whatever of that exceeds its RAM less its
 * high watermark must be on swap: cold host memory first, swapped out
 * once; every increase of the rest is swapped out, and a working set
 * touched every T seconds re-faults its swapped part once per T (the best a
 * cyclic access allows; sources, touched once a round, go first);
 * min_once_pswpout leaves the re-faults out, a bound under any replacement
 * and any speed of swap. It is
 * integrated along the jobs' unimpeded timeline (touch_ms and io_ms only).
 * Page cache touched once is not working set.
 *
 * Policies: kab (policy.c, fed as the module feeds it: host events with
 * the host's RAM and available memory, guest rings, guest figures, ticks,
 * the balloon's actual size), static (no balloon), mom
 * (bench/reaction/baseline.py's MOM rules), xen (self-ballooning), chromeos
 * (its blocking, 10 s after high-priority and 100 s after low-priority
 * resizes), oracle (knows each working set 5 s ahead).
 *
 * Demand comes from per-VM random streams seeded by scenario and seed only,
 * so every policy sees the same demand and every run with the same seed
 * prints the same numbers.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

#define DT		0.1		/* s per step */
#define PAGES_PER_MIB	256.0
#define HANDOFF		0.05		/* s from decision to VMM */
#define HOST_PERIOD	0.5		/* s between host pressure events */
#define TICK_PERIOD	1.0		/* s between policy ticks */
#define STATS_PERIOD	1.0		/* s between guest statistics */
#define TRACE_PERIOD	10.0		/* s between trace lines */
#define FPR_DELAY	2.0		/* s: page reporting's delay (Linux) */
/*
 * MiB reported per pass: the fixed-fpr samples of bench/rfc show host free
 * memory rising by 200-230 MiB within one 0.5 s sample after a round ends.
 */
#define FPR_BATCH	256.0
#define RESTART_DELAY	0.2		/* s: kab_guest restarts a killed job */
#define WS_WINDOW	10.0		/* s: a trace's working set is touched */
#define CACHE_EFFICIENCY 0.9		/* reclaimed / scanned for page cache */
/*
 * Constants of the bench/rfc machine fitted to measurements: defaults here,
 * refitted per kernel release by bench/policy/fit.py against the newest
 * bench/rfc/results.md (kab_sim -m NAME=VALUE), see bench/policy/results.md.
 *   touch_ms	CPU ms per MiB per pass of a job, fitted to fixed's mean job
 *		runtime on the hard job;
 *   guest_cold	MiB per guest of memory it touched while booting and then
 *		freed: cold on the host (a host that swaps it out never has
 *		to swap it in, as the guest reuses the pages it freed last
 *		first), and reported within seconds where free page
 *		reporting is on; fitted to fixed's host pswpout on the hard
 *		job, together with
 *   base_cold	MiB of the test VM's own memory that is cold, which free
 *		page reporting cannot return: fitted to fixed-fpr's host
 *		pswpout on the hard job;
 *   io_ms	CPU ms per MiB a job reads from or writes to its page cache,
 *		fitted to fixed's mean job runtime on the rfc job.
 * The defaults are those fits on 6.1 (2026-12-01 21:03 for the hard job,
 * the rfc job's first phases of 23:36), rounded.
 */
#define RFC_TOUCH_MS	0.70
#define RFC_GUEST_COLD	31.0
#define RFC_BASE_COLD	32.0
#define RFC_IO_MS	12.5
/*
 * ms per MiB of a host fault of a page that is not backed (never touched,
 * reported, or deflated), on top of the touch: measured, not fitted. The
 * fixed and fixed-fpr samples of bench/rfc show host free memory falling at
 * 130-140 MiB/s while the three jobs fault in their first round, 7.1-7.7 ms
 * of the test VM's one CPU per MiB, of which touch_ms is the touch.
 */
#define RFC_FAULT_MS	6.0
/*
 * MiB/s of the balloon in an idle nested guest of the test VM, for 6.1:
 * bench/motion's medians with page runs (QEMU patch 0007, the driver's
 * 16 MiB requests), 89.8 inflating and 510.6 deflating (22 and 121 were
 * measured before page runs and 16 MiB requests, in an idle nested guest,
 * DESIGN.md). bench/policy/fit.py passes each release's own (-m).
 */
#define RFC_INFLATE_RATE	89.8
#define RFC_DEFLATE_RATE	510.6
/* The machine (see RFC_MACHINE); -m ram= and base= for another kernel. */
#define RFC_RAM		1463.0
#define RFC_BASE	372.0
#define RFC_KERN	89.0
#define RFC_KERN_HOST	31.0
#define NSEC		1000000000ULL
/* Below these, MiB or seconds are nothing (no exponent: checkpatch). */
#define EPS		(1.0 / NSEC)
#define TINY		(EPS / 1000)

enum policy_kind { POL_KAB, POL_STATIC, POL_MOM, POL_XEN, POL_CHROMEOS,
		   POL_ORACLE, NR_POLICIES };

static const char * const policy_names[NR_POLICIES] = {
	"kab", "static", "mom", "xen", "chromeos", "oracle",
};

enum demand_kind { DEM_PHASE, DEM_KBUILD, DEM_IDLE, DEM_CYCLE, DEM_JOB };

enum detector_kind { DET_DRIVER, DET_RECLAIM, DET_EARLY, NR_DETECTORS };

static const char * const detector_names[NR_DETECTORS] = {
	"driver", "reclaim", "early",
};

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

/* Working set generator of one trace VM: a function of time only. */
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

/*
 * A build job as kab_guest runs it: @rounds rounds, each allocating a
 * pseudo-random mib/4..mib MiB (its LCG from @seed0), writing every page
 * four times, then freeing it. With @cache, the job first writes @cache MiB
 * of sources, and each round reads them back before its allocation
 * (STAGE_READ) and writes @cache / 2 MiB of objects after it (STAGE_WRITE):
 * page cache, as a kernel build has. A killed job starts over from its
 * first round.
 */
enum job_stage { STAGE_SOURCES, STAGE_READ, STAGE_PASS, STAGE_WRITE };

struct job {
	unsigned int mib, rounds, cache, seed0;
	enum job_stage stage;
	double start;			/* s, first start */
	double gap_lo, gap_hi;		/* idle between jobs; 0: only one */
	unsigned int seed, round, pass;
	double len, pos;		/* this round's MiB, progress in a pass */
	double began, restart_at;
	bool running, killed;
	unsigned int finished, ooms;
	double runtime_sum, runtime_max;
	struct rng rng;
};

/* What the guest's balloon statistics tell the host, once a second. */
struct guest_stats {
	double avail, free, cache, total;	/* MiB */
	double committed;			/* MiB, < 0: not reported */
	double at;				/* s, -1 before the first */
	bool fresh;				/* taken in this step */
};

struct wmarks {
	double min, low, high;
};

/* The guest's pressure detector: counters since its last evaluation. */
struct detector {
	double eval_at;			/* reclaim: pending evaluation, or -1 */
	double next_eval;		/* early: next periodic evaluation */
	bool reclaim_ran;
	double stalls, scanned, reclaimed;
	unsigned int ooms;
	double last_report[KAB_NR_LEVELS];
	double prev_avail, prev_at;
	double prev_held;		/* driver: balloon at the last evaluation */
	double decline;			/* driver: smoothed fall, MiB/s */
	unsigned long reported[KAB_NR_LEVELS];
};

/*
 * A run of free guest pages freed at about the same time: how much of it
 * is resident on the host, in host swap, not backed.
 */
struct free_seg {
	double res, swap, none;
};

#define NSEG		32

struct sim_vm {
	struct demand dem;
	struct job job;
	bool has_job;
	double size, floor, kern;
	double kern_host;		/* of kern, resident on the host */
	double gswap_max;		/* guest swap, MiB; 0: swapless */
	struct wmarks wm;
	/* guest memory, MiB; cache: cold page cache, src: a job's sources */
	double anon, gswap, cache, src;
	/* free memory, a stack by recency (top: freed last) */
	struct free_seg seg[NSEG];
	unsigned int nseg;
	double free_res, free_swap;	/* touched free: resident, swapped */
	double anon_hswap, cache_hswap, src_hswap;	/* host-swapped parts */
	double balloon;			/* actual */
	double fpr_at;			/* next reporting pass, or -1 */
	double down_until;		/* trace workload killed: back then */
	/* the VMM */
	double target, pending, pending_at;
	unsigned long long seen_seq;
	int last_dir;
	/* signals */
	struct detector det;
	unsigned int ring;		/* level reported this step */
	struct guest_stats stats;
	unsigned int level;		/* current level for the baselines */
	double level_at;
	/* accounting */
	bool unmet;
	double unmet_since;
	double lost;			/* s of stalls on swap-in (traces) */
	double moved_in, moved_in_time;	/* balloon inflation: MiB, s */
	double cpu_job, cpu_balloon;	/* CPU given this step, s */
	/* baselines */
	double block_inflate_until, block_deflate_until;
	unsigned int block_inflate_prio, block_deflate_prio;
	struct kab_policy_vm pol;
};

struct scenario {
	const char *name;
	const char *what;
	unsigned int nr;
	double duration;		/* s; for jobs: a time limit */
	double vm_size[3];		/* sizes cycled over VMs, MiB */
	double host_ratio;		/* H - base = ratio * sum(S), if no ram */
	void (*init)(struct sim_vm *vm, unsigned int i, unsigned int nr);
	/* the machine; 0 picks the trace defaults */
	double ram, base, swap;		/* MiB */
	double base_cold;		/* MiB of base that is cold anon */
	double guest_cold;		/* MiB per guest touched at boot, free */
	double kern;			/* guest kernel, MiB */
	double kern_host;		/* of it, resident on the host */
	double floor;			/* MiB */
	double host_min_free, guest_min_free;	/* min_free_kbytes, MiB */
	unsigned int cpus;
	double inflate_rate, deflate_rate;	/* MiB/s of a whole vCPU */
	double page_ms;			/* ms per MiB of swap-in or -out */
	double fault_ms;		/* ms per MiB of host fault */
	double touch_ms;		/* ms per MiB per pass of a job */
	double io_ms;			/* ms per MiB of a job's file I/O */
	double zram_ratio;
	double host_io;			/* MiB/s into the host page cache */
};

struct metrics {
	double reclaimed;		/* MiB * s */
	double unmet;			/* VM * s */
	unsigned long ooms;
	double pswpout, pswpin;		/* MiB */
	double swap_peak;		/* MiB */
	double host_short;		/* MiB * s host lacked with swap full */
	double host_idle;		/* MiB * s of host memory nobody used */
	double churn;			/* MiB */
	unsigned long dir_changes;
	double unmet_episode_sum;
	unsigned long unmet_episodes;
	double min_out, min_peak;	/* the oracle's unavoidable swap, MiB */
	double min_cold;		/* of it: cold host memory, swapped once */
	double min_rise;		/* of it: the rises of the deficit */
};

struct host {
	double ram, base, cache, io_rate, swap_max, swap;
	double base_cold;		/* of base: cold anonymous memory */
	struct wmarks wm;
	double free;
	double cpu_debt;		/* s of host work not yet run */
	unsigned int level;		/* of this step */
	unsigned int window_level;	/* highest since the last event */
};

struct sim {
	const struct scenario *sc;
	struct sim_vm *vms;
	unsigned int nr;
	struct host h;
	struct metrics m;
	enum policy_kind pk;
	enum detector_kind det;
	bool fpr;
	double page_cost, touch_cost;	/* s per MiB: swap, job touch */
	double io_cost;			/* s per MiB: a job's file I/O */
	bool balloon_old;		/* the balloon takes the oldest free pages */
	bool balloon_trend;		/* driver: its trend counts the balloon */
	double alloc_fresh;		/* allocations' share of unbacked pages */
	double fault_cost;		/* s per MiB: host fault of a new page */
	double zram_ratio;
	double inflate_cost, deflate_cost;
	unsigned int cpus;
};

static struct kab_policy_params params;

/*
 * -F: the kab arm gets neither the guest's figures nor the host's, as the
 * module before the policy used them: with blind_step_percent=100 and the
 * old blocking times, an approximation of that policy (run.sh's arm
 * kab-today) to check the model against bench/rfc's measurements of it.
 */
static bool withhold_figures;

/* -o name=value overrides of policy tunables, applied after the defaults. */
#define MAX_OVERRIDES	32
static const char *overrides[MAX_OVERRIDES];
static unsigned int nr_overrides;

/* -m name=value overrides of the model's constants (calibration). */
static const char *model_overrides[MAX_OVERRIDES];
static unsigned int nr_model_overrides;

static double model_or(const char *name, double def)
{
	size_t len = strlen(name);
	unsigned int k;

	for (k = 0; k < nr_model_overrides; k++)
		if (!strncmp(model_overrides[k], name, len) &&
		    model_overrides[k][len] == '=')
			return strtod(model_overrides[k] + len + 1, NULL);
	return def;
}

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
	d->level = d->size * (lo + (hi - lo) * rng_uniform(&d->rng));
	d->goal = d->level;
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
				d->spike = 0;
				d->spike_goal = 0;
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
	case DEM_JOB:
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
	vm->gswap_max = 0.05 * size;	/* a small zram swap in the guest */
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

static void job_init(struct sim_vm *vm, unsigned int mib, unsigned int rounds,
		     double start)
{
	vm->has_job = true;
	vm->dem.kind = DEM_JOB;
	vm->dem.io_rate = 0;
	vm->gswap_max = 0;
	vm->job.mib = mib;
	vm->job.rounds = rounds;
	vm->job.seed0 = 1;
	vm->job.start = start;
	vm->job.restart_at = start;
}

/*
 * bench/rfc's job rfc, the RFC's case: `build 160 10 64 SEED` in guest i
 * with seed i + 1, all started at once. The guests are overcommitted in
 * size, their working sets fit together; what the host lacks is what they
 * touched: the objects in their page cache, and freed memory.
 */
static void init_rfc(struct sim_vm *vm, unsigned int i, unsigned int nr)
{
	(void)nr;
	job_init(vm, 160, 10, 0);
	vm->job.cache = 64;
	vm->job.seed0 = i + 1;
}

/* bench/rfc's job cache: `build 400 10 128` in each guest, at once. */
static void init_cache(struct sim_vm *vm, unsigned int i, unsigned int nr)
{
	(void)i;
	(void)nr;
	job_init(vm, 400, 10, 0);
	vm->job.cache = 128;
}

/* bench/rfc's job hard: `build 400 10` in each guest, all started at once. */
static void init_hard(struct sim_vm *vm, unsigned int i, unsigned int nr)
{
	(void)i;
	(void)nr;
	job_init(vm, 400, 10, 0);
}

/* Anonymous-only, swapless guests running build jobs back to back. */
static void init_anon(struct sim_vm *vm, unsigned int i, unsigned int nr)
{
	(void)nr;
	job_init(vm, (unsigned int)(0.7 * vm->size), 10, 30.0 * i);
	vm->job.gap_lo = 30;
	vm->job.gap_hi = 300;
}

static const struct scenario scenarios[] = {
	{ .name = "phase",
	  .what = "16 VMs, phase changes every ~10 min, overloads of +15-35 % mostly < 2 min",
	  .nr = 16, .duration = 7200, .vm_size = { 4096, 8192, 2048 },
	  .host_ratio = 0.62, .init = init_phase },
	{ .name = "kbuild",
	  .what = "8 VMs, kernel-build-like ramps to 50-75 % then a drop",
	  .nr = 8, .duration = 7200, .vm_size = { 4096, 8192, 4096 },
	  .host_ratio = 0.72, .init = init_kbuild },
	{ .name = "idle",
	  .what = "16 VMs, half idle hoarding 75 % of their RAM as page cache",
	  .nr = 16, .duration = 7200, .vm_size = { 4096, 4096, 8192 },
	  .host_ratio = 0.5, .init = init_idle },
	{ .name = "reinflate",
	  .what = "4 VMs, 10 min at 15 %, 10 min at 75 %: deflate and re-inflate with demand",
	  .nr = 4, .duration = 7200, .vm_size = { 8192, 8192, 8192 },
	  .host_ratio = 0.8, .init = init_cycle },
	{ .name = "n1024",
	  .what = "1024 VMs of 2-4 GiB, phase changes and overloads",
	  .nr = 1024, .duration = 3600, .vm_size = { 2048, 4096, 2048 },
	  .host_ratio = 0.62, .init = init_phase },
	{ .name = "anon",
	  .what = "8 swapless VMs, anonymous-only build jobs back to back, OOM restarts the job",
	  .nr = 8, .duration = 3600, .vm_size = { 4096, 4096, 4096 },
	  .host_ratio = 0.62, .init = init_anon },
	/*
	 * bench/rfc: the test VM (1463 MiB, 1023 MiB zram, 1 vCPU under TCG)
	 * and 3 nested guests of 640 MiB; bench/policy/fit.py measures ram,
	 * kern, kern_host and base again per kernel release. kern: what the
	 * guest's job cannot have, 640 - MemTotal (582.7 MiB) + its used
	 * memory when idle (31 MiB: the most MemAvailable, 551 MiB, that
	 * kab_guest's `kabg: s mt= av=` lines show); kern_host: of it, what
	 * the host holds, taken as that used memory (what is outside
	 * MemTotal assumed untouched); base + 3 (kern_host + guest_cold) =
	 * 465 MiB is MemTotal less the measured MemAvailable of 925-945 MiB
	 * with the guests up less the high watermark (MemAvailable leaves
	 * it out). min_free: khugepaged's recommended min_free_kbytes
	 * (Debian's kernels have THP), 44 MiB on the host (its free memory
	 * floors at 60-66 MiB, the high watermark, in every arm's samples)
	 * and capped at 5 % of the guest's 582 MiB in the guests. Balloon
	 * speeds: RFC_INFLATE_RATE and RFC_DEFLATE_RATE. page_ms: a host
	 * page operation costs what a balloon page cost before page runs
	 * (1/22 s per MiB), assumed. The job's
	 * pages hold one non-zero byte each: zram stores them in ~2 %.
	 */
#define RFC_MACHINE							\
	.nr = 3, .duration = 1800, .vm_size = { 640, 640, 640 },	\
	.ram = RFC_RAM, .base = RFC_BASE, .base_cold = RFC_BASE_COLD,	\
	.guest_cold = RFC_GUEST_COLD,					\
	.swap = 1023, .kern = RFC_KERN, .kern_host = RFC_KERN_HOST,	\
	.floor = 160,							\
	.host_min_free = 44, .guest_min_free = 29,			\
	.cpus = 1, .inflate_rate = RFC_INFLATE_RATE,			\
	.deflate_rate = RFC_DEFLATE_RATE,				\
	.page_ms = 1000.0 / 22, .fault_ms = RFC_FAULT_MS,		\
	.touch_ms = RFC_TOUCH_MS, .io_ms = RFC_IO_MS, .zram_ratio = 0.02
	{ .name = "rfc",
	  .what = "bench/rfc's job rfc: build 160 10 64 SEED, seeds 1..3, in 3 guests of 640 MiB",
	  .init = init_rfc, RFC_MACHINE },
	{ .name = "hard",
	  .what = "bench/rfc's job hard: build 400 10, one seed, in 3 guests of 640 MiB",
	  .init = init_hard, RFC_MACHINE },
	{ .name = "cache",
	  .what = "bench/rfc's job cache: build 400 10 128, one seed, in 3 guests of 640 MiB",
	  .init = init_cache, RFC_MACHINE },
};

/* ---- guest memory ---- */

/*
 * Linux's zone watermarks for a zone of @mib MiB, with min_free_kbytes
 * raised to @min_free MiB (khugepaged) when that is larger.
 */
static struct wmarks linux_wmarks(double mib, double min_free)
{
	double min_kb = fmin(fmax(4 * sqrt(mib * 1024), 128), 262144);
	struct wmarks w;
	double gap;

	w.min = fmax(min_kb / 1024, min_free);
	gap = fmax(w.min / 4, 0.001 * mib);
	w.low = w.min + gap;
	w.high = w.min + 2 * gap;
	return w;
}

static double vm_avail_size(const struct sim_vm *vm)
{
	return vm->size - vm->balloon;
}

static double vm_free(const struct sim_vm *vm)
{
	return vm_avail_size(vm) - vm->kern - (vm->anon - vm->gswap) -
	       vm->cache - vm->src;
}

/* si_mem_available(): free above the reserves, plus most of the cache. */
static double vm_mem_available(const struct sim_vm *vm)
{
	double cache = vm->cache + vm->src;

	return fmax(0, vm_free(vm) - vm->wm.high) + cache -
	       fmin(cache / 2, vm->wm.low);
}

/* Host RAM the guest's memory holds. */
static double vm_resident(const struct sim_vm *vm)
{
	return vm->kern_host + (vm->anon - vm->gswap - vm->anon_hswap) +
	       (vm->cache - vm->cache_hswap) + (vm->src - vm->src_hswap) +
	       vm->free_res;
}

static void swap_in(struct sim *s, double mib)
{
	s->m.pswpin += mib;
	s->h.swap -= mib;
}

/* Free pages join the top of the stack: the allocator hands them out next. */
static void seg_push(struct sim_vm *vm, double res, double swap, double none)
{
	struct free_seg *g;

	if (res + swap + none <= TINY)
		return;
	vm->free_res += res;
	vm->free_swap += swap;
	if (vm->nseg && res + swap + none < 1) {
		g = &vm->seg[vm->nseg - 1];
	} else {
		if (vm->nseg == NSEG) {
			/* The oldest two runs become one. */
			vm->seg[0].res += vm->seg[1].res;
			vm->seg[0].swap += vm->seg[1].swap;
			vm->seg[0].none += vm->seg[1].none;
			memmove(&vm->seg[1], &vm->seg[2],
				(NSEG - 2) * sizeof(vm->seg[0]));
			vm->nseg--;
		}
		g = &vm->seg[vm->nseg++];
		*g = (struct free_seg){ 0 };
	}
	g->res += res;
	g->swap += swap;
	g->none += none;
}

/* Take @x MiB from the top of the stack (hot pages first). */
static void seg_pop(struct sim_vm *vm, double x, double *res, double *swap,
		    double *none)
{
	*res = *swap = *none = 0;
	while (x > TINY && vm->nseg) {
		struct free_seg *g = &vm->seg[vm->nseg - 1];
		double tot = g->res + g->swap + g->none, f;

		if (tot <= TINY) {
			vm->nseg--;
			continue;
		}
		f = fmin(1, x / tot);
		*res += g->res * f;
		*swap += g->swap * f;
		*none += g->none * f;
		g->res -= g->res * f;
		g->swap -= g->swap * f;
		g->none -= g->none * f;
		x -= tot * f;
		if (f >= 1 - TINY)
			vm->nseg--;
	}
	*none += fmax(0, x);
	vm->free_res = fmax(0, vm->free_res - *res);
	vm->free_swap = fmax(0, vm->free_swap - *swap);
}

/*
 * Take @x MiB from the bottom of the stack (freed longest ago): what the
 * balloon gets if it is served from old free blocks (-m balloon_old=1).
 */
static void seg_pop_old(struct sim_vm *vm, double x, double *res,
			double *swap, double *none)
{
	unsigned int i, keep = 0;

	*res = 0;
	*swap = 0;
	*none = 0;
	for (i = 0; i < vm->nseg; i++) {
		struct free_seg *g = &vm->seg[i];
		double tot = g->res + g->swap + g->none, f;

		if (x > TINY && tot > TINY) {
			f = fmin(1, x / tot);
			*res += g->res * f;
			*swap += g->swap * f;
			*none += g->none * f;
			g->res -= g->res * f;
			g->swap -= g->swap * f;
			g->none -= g->none * f;
			x -= tot * f;
		}
		if (g->res + g->swap + g->none > TINY)
			vm->seg[keep++] = *g;
	}
	vm->nseg = keep;
	*none += fmax(0, x);
	vm->free_res = fmax(0, vm->free_res - *res);
	vm->free_swap = fmax(0, vm->free_swap - *swap);
}

/* Take up to @x MiB of the never-backed free pages, oldest first. */
static double seg_pop_none(struct sim_vm *vm, double x)
{
	double got = 0, y;
	unsigned int i;

	for (i = 0; i < vm->nseg && x > TINY; i++) {
		y = fmin(x, vm->seg[i].none);
		vm->seg[i].none -= y;
		got += y;
		x -= y;
	}
	return got;
}

/*
 * From the bottom of the stack (freed longest ago), turn @x MiB of touched
 * free memory into swapped (host swap-out, @to_swap) or not backed (free
 * page reporting). Returns the swapped MiB so reported.
 */
static double seg_convert(struct sim_vm *vm, double x, bool to_swap)
{
	double swapped = 0;
	unsigned int i;

	for (i = 0; i < vm->nseg && x > TINY; i++) {
		struct free_seg *g = &vm->seg[i];
		double y;

		if (to_swap) {
			y = fmin(x, g->res);
			g->res -= y;
			g->swap += y;
			vm->free_res -= y;
			vm->free_swap += y;
		} else {
			double r = fmin(x, g->res), w = fmin(x - r, g->swap);

			g->res -= r;
			g->swap -= w;
			g->none += r + w;
			vm->free_res -= r;
			vm->free_swap -= w;
			swapped += w;
			y = r + w;
		}
		x -= y;
	}
	vm->free_res = fmax(0, vm->free_res);
	vm->free_swap = fmax(0, vm->free_swap);
	return swapped;
}

/*
 * Take @x MiB of the guest's free memory, last freed first. Returns the MiB
 * the host had to swap in; *fault gets the MiB it had to fault in.
 */
static double take_free(struct sim *s, struct sim_vm *vm, double x,
			double *fault)
{
	double res, sw, none;

	*fault = 0;
	if (x <= 0)
		return 0;
	*fault = seg_pop_none(vm, x * s->alloc_fresh);
	seg_pop(vm, x - *fault, &res, &sw, &none);
	*fault += none;
	swap_in(s, sw);
	return sw;
}

/* Freed memory, of which @swapped MiB are on host swap. */
static void give_free(struct sim_vm *vm, double x, double swapped)
{
	seg_push(vm, x - swapped, swapped, 0);
	if (vm->fpr_at < 0)
		vm->fpr_at = -2;	/* armed: the next step schedules it */
}

/* Drop @x MiB of one kind of page cache (@mib, its host-swapped @hswap). */
static double drop_cache(struct sim_vm *vm, double *mib, double *hswap,
			 double x)
{
	double sw;

	x = fmin(x, *mib);
	if (x <= 0)
		return 0;
	sw = *hswap * x / *mib;
	*mib -= x;
	*hswap -= sw;
	give_free(vm, x, sw);
	return x;
}

/*
 * Guest reclaim of up to @want MiB of page cache (kswapd or direct): the
 * inactive list first, i.e. cache touched once (a job's objects), then the
 * sources a job reads every round.
 */
static void guest_reclaim(struct sim_vm *vm, double want)
{
	double x;

	vm->det.reclaim_ran = true;
	x = drop_cache(vm, &vm->cache, &vm->cache_hswap, want);
	x += drop_cache(vm, &vm->src, &vm->src_hswap, want - x);
	if (x > 0) {
		vm->det.reclaimed += x;
		vm->det.scanned += x / CACHE_EFFICIENCY;
	}
	/* Nothing left to reclaim: reclaim scans and frees nothing. */
	if (x < want)
		vm->det.scanned += want - x;
}

enum alloc_kind { ALLOC_ANON, ALLOC_CACHE, ALLOC_SRC };

/*
 * The guest allocates @x MiB of anonymous memory or page cache (@kind).
 * Returns how much it got; less means the OOM killer ran (anonymous) or the
 * cache did not grow. *cost gets the time the host's faults and swap-ins
 * cost the guest, s.
 */
static double guest_alloc(struct sim *s, struct sim_vm *vm, double x,
			  enum alloc_kind kind, double *cost)
{
	double free = vm_free(vm), short_, got, fault, sw, push;
	bool cache = kind != ALLOC_ANON;

	*cost = 0;
	if (x <= 0)
		return 0;
	if (free - x < vm->wm.low)
		guest_reclaim(vm, vm->wm.high + x - free);
	free = vm_free(vm);
	if (cache) {
		got = fmax(0, fmin(x, free - vm->wm.high));
	} else {
		if (free - x < vm->wm.min)
			vm->det.stalls += 1;
		short_ = vm->wm.min + x - free;
		if (short_ > 0 && vm->gswap < vm->gswap_max) {
			push = fmin(short_, vm->gswap_max - vm->gswap);
			/* The guest swaps out its own coldest anonymous pages. */
			vm->gswap += push;
			seg_push(vm, push, 0, 0);
			sw = vm->anon > 0 ? push * vm->anon_hswap / vm->anon : 0;
			vm->anon_hswap -= sw;
			swap_in(s, sw);	/* read to be written to guest swap */
			*cost += sw * s->page_cost;
			short_ -= push;
		}
		got = short_ > 0 ? fmax(0, x - short_) : x;
	}
	sw = take_free(s, vm, got, &fault);
	*cost += sw * s->page_cost + fault * s->fault_cost;
	if (kind == ALLOC_CACHE)
		vm->cache += got;
	else if (kind == ALLOC_SRC)
		vm->src += got;
	else
		vm->anon += got;
	return got;
}

/* The guest frees @x MiB of anonymous memory. */
static void guest_free_anon(struct sim_vm *vm, double x)
{
	double res = vm->anon - vm->gswap, sw;

	x = fmin(x, vm->anon);
	if (x <= 0)
		return;
	/* Swapped-out guest pages are freed first (their slot goes). */
	if (vm->gswap > 0) {
		double g = fmin(x, vm->gswap);

		vm->gswap -= g;
		vm->anon -= g;
		x -= g;
		res = vm->anon - vm->gswap;
	}
	if (x <= 0)
		return;
	sw = res > 0 ? x * vm->anon_hswap / res : 0;
	vm->anon -= x;
	vm->anon_hswap -= sw;
	give_free(vm, x, sw);
}

/*
 * Free page reporting: FPR_DELAY after memory was freed, report up to
 * FPR_BATCH of the touched free memory; the host discards it (resident or
 * in swap). Repeats while there is more.
 */
static void fpr_step(struct sim *s, struct sim_vm *vm, double t)
{
	double touched, x;

	if (!s->fpr || vm->fpr_at == -1)
		return;
	if (vm->fpr_at == -2) {
		vm->fpr_at = t + FPR_DELAY;
		return;
	}
	if (t < vm->fpr_at)
		return;
	/* Reported memory stays above the high watermark, in 2 MiB blocks. */
	touched = vm->free_res + vm->free_swap;
	x = fmin(fmin(FPR_BATCH, touched),
		 fmax(0, vm_free(vm) - vm->wm.high - 2));
	if (x > 0)
		s->h.swap -= seg_convert(vm, x, false);
	vm->fpr_at = vm->free_res + vm->free_swap > 2 ? t + FPR_DELAY : -1;
}

/* ---- guest pressure detection ---- */

/*
 * The driver's per-level rate limit, then the doorbell: the level rung in
 * this step is the highest that passed.
 */
static const double quota_reclaim[KAB_NR_LEVELS] = { 10, 2, 0.5 };
static const double quota_early[KAB_NR_LEVELS] = { 2, 1, 0.5 };

static void guest_report(struct sim *s, struct sim_vm *vm, unsigned int level,
			 double t)
{
	/* The driver's rate limits are those of the reclaim-only one. */
	const double *q = s->det == DET_EARLY ? quota_early : quota_reclaim;
	struct detector *d = &vm->det;

	if (t - d->last_report[level - 1] < q[level - 1] - EPS)
		return;
	d->last_report[level - 1] = t;
	d->reported[level - 1]++;
	if (level > vm->ring)
		vm->ring = level;
}

/* pressure.c's vab_evaluate(): the counters since the last evaluation. */
static unsigned int evaluate_reclaim(const struct sim_vm *vm)
{
	const struct detector *d = &vm->det;
	double avail = vm_mem_available(vm), total = vm_avail_size(vm);
	bool window = d->scanned >= 512 / PAGES_PER_MIB;

	if (d->ooms)
		return KAB_LEVEL_CRITICAL;
	if (avail >= 0.10 * total)
		return KAB_LEVEL_NONE;
	if ((d->stalls && avail < 0.02 * total) ||
	    (window && d->reclaimed < 0.05 * d->scanned))
		return KAB_LEVEL_CRITICAL;
	if (d->stalls || (window && d->reclaimed < 0.40 * d->scanned))
		return KAB_LEVEL_MEDIUM;
	if (d->scanned > 0)
		return KAB_LEVEL_LOW;
	return KAB_LEVEL_NONE;
}

/*
 * The early-warning detector: no reclaim needed. Free memory against the
 * watermarks, MemAvailable against 10/5/2 % of RAM, and the time until it
 * runs out at the rate it fell since the last evaluation.
 */
static unsigned int evaluate_early(struct sim_vm *vm, double t)
{
	struct detector *d = &vm->det;
	double avail = vm_mem_available(vm), total = vm_avail_size(vm);
	double rate = 0, tte = 1e18, free = vm_free(vm);
	unsigned int level = KAB_LEVEL_NONE;

	if (d->prev_at >= 0 && t > d->prev_at)
		rate = (d->prev_avail - avail) / (t - d->prev_at);
	if (rate > 0)
		tte = avail / rate;
	d->prev_avail = avail;
	d->prev_at = t;
	if (d->ooms || free < vm->wm.min || avail < 0.02 * total || tte < 2)
		level = KAB_LEVEL_CRITICAL;
	else if (free < vm->wm.low || avail < 0.05 * total || tte < 10)
		level = KAB_LEVEL_MEDIUM;
	else if ((avail < 0.10 * total && rate > 0) || tte < 30)
		level = KAB_LEVEL_LOW;
	return level;
}

/*
 * pressure.c's detector as it is: every 500 ms while active, the trend
 * (available memory under 10 / 5 % of RAM; the time it runs out at its
 * smoothed rate of fall under 10 / 3 s; under 10 %, free memory under
 * twice the high watermark: medium) and reclaim's counters, gated as
 * evaluate_reclaim() gates them; the higher level wins. The rate leaves
 * out what the balloon itself moved, unless -m balloon_trend=1 (the driver
 * before it did). File refaults are not modelled: the jobs' sources are
 * read once a round and never thrash.
 */
static unsigned int evaluate_driver(const struct sim *s, struct sim_vm *vm,
				    double t)
{
	struct detector *d = &vm->det;
	double avail = vm_mem_available(vm), total = vm_avail_size(vm);
	double held = s->balloon_trend ? 0 : vm->balloon, eta = 1e18, rate;
	unsigned int level = KAB_LEVEL_NONE, reclaim;
	bool had = d->prev_at >= 0;

	if (had && t > d->prev_at) {
		rate = fmax(0, d->prev_avail + d->prev_held - avail - held) /
		       (t - d->prev_at);
		d->decline = d->decline > 0 ? d->decline / 2 + rate / 2 : rate;
	}
	d->prev_avail = avail;
	d->prev_held = held;
	d->prev_at = t;
	if (had && d->decline > 0)
		eta = avail / d->decline;
	if (avail < 0.05 * total || eta < 3 ||
	    (avail < 0.10 * total && vm_free(vm) < 2 * vm->wm.high))
		level = KAB_LEVEL_MEDIUM;
	else if (avail < 0.10 * total || eta < 10)
		level = KAB_LEVEL_LOW;
	/* The first evaluation after idle starts reclaim's counters afresh. */
	if (!had) {
		d->stalls = 0;
		d->scanned = 0;
		d->reclaimed = 0;
	}
	reclaim = evaluate_reclaim(vm);
	return reclaim > level ? reclaim : level;
}

/*
 * Does the driver evaluate this period? The balloon holds pages, reclaim
 * ran, or available memory is under a quarter of RAM.
 */
static bool driver_active(const struct sim_vm *vm)
{
	return vm->balloon > 0 || vm->det.reclaim_ran ||
	       vm_mem_available(vm) < 0.25 * vm_avail_size(vm);
}

static void detector_reset(struct detector *d)
{
	d->reclaim_ran = false;
	d->stalls = 0;
	d->scanned = 0;
	d->reclaimed = 0;
	d->ooms = 0;
}

/*
 * The guest's detector, once per step, after the guest has run: returns
 * with vm->ring set to the level the doorbell rang (0: none).
 */
static void detect(struct sim *s, struct sim_vm *vm, double t)
{
	struct detector *d = &vm->det;
	unsigned int level = KAB_LEVEL_NONE;

	if (s->det == DET_RECLAIM) {
		/* The shrinker call queues one evaluation, 100 ms later. */
		if (d->reclaim_ran && d->eval_at < 0)
			d->eval_at = t + 0.1;
		d->reclaim_ran = false;
		if (d->eval_at < 0 || t < d->eval_at - EPS)
			return;
		d->eval_at = -1;
		level = evaluate_reclaim(vm);
	} else if (s->det == DET_DRIVER) {
		if (t < d->next_eval - EPS)
			return;
		d->next_eval = t + 0.5;
		if (!driver_active(vm)) {
			/* Idle: what reclaim counted and the rate are old. */
			detector_reset(d);
			d->prev_at = -1;
			d->decline = 0;
			return;
		}
		level = evaluate_driver(s, vm, t);
	} else {
		if (t < d->next_eval - EPS)
			return;
		d->next_eval = t + 0.5;
		level = evaluate_early(vm, t);
	}
	detector_reset(d);
	if (level)
		guest_report(s, vm, level, t);
}

/* The OOM notifier runs before the OOM killer and reports critical. */
static void guest_oom(struct sim *s, struct sim_vm *vm, double t)
{
	vm->det.ooms++;
	s->m.ooms++;
	guest_report(s, vm, KAB_LEVEL_CRITICAL, t);
}

static bool job_busy(const struct sim_vm *vm)
{
	return vm->has_job && vm->job.running;
}

/*
 * The statistics the guest sends once a second. The driver with the early
 * detector also reports committed memory (Committed_AS: what the workload
 * has allocated, a job's whole round as soon as it starts); the driver of
 * today and Debian's stock one do not.
 */
static void stats_step(const struct sim *s, struct sim_vm *vm, double t)
{
	vm->stats.fresh = false;
	if (vm->stats.at >= 0 && t - vm->stats.at < STATS_PERIOD - EPS)
		return;
	vm->stats.avail = vm_mem_available(vm);
	vm->stats.free = fmax(0, vm_free(vm));
	vm->stats.cache = vm->cache;
	vm->stats.total = vm_avail_size(vm);
	vm->stats.committed = -1;
	if (s->det != DET_RECLAIM)
		vm->stats.committed = job_busy(vm) ?
				      fmax(vm->anon, vm->job.len) : vm->anon;
	vm->stats.at = t;
	vm->stats.fresh = true;
}

static u64 mib_pages(double mib)
{
	return mib > 0 ? (u64)(mib * PAGES_PER_MIB) : 0;
}

/* The figures as QEMU hands them to the module (KAB_VM_SET_GUEST_STATS). */
static void kab_guest_figures(struct sim_vm *vm, unsigned long long now)
{
	struct kab_policy_guest *g = &vm->pol.guest;

	g->valid = KAB_GUEST_STAT_AVAILABLE | KAB_GUEST_STAT_FREE |
		   KAB_GUEST_STAT_CACHE | KAB_GUEST_STAT_TOTAL;
	g->available_pages = mib_pages(vm->stats.avail);
	g->free_pages = mib_pages(vm->stats.free);
	g->cache_pages = mib_pages(vm->stats.cache);
	g->total_pages = mib_pages(vm->stats.total);
	g->committed_pages = 0;
	if (vm->stats.committed >= 0) {
		g->valid |= KAB_GUEST_STAT_COMMITTED;
		g->committed_pages = mib_pages(vm->stats.committed);
	}
	g->reported_ns = now;
	g->updates++;
}

/* ---- workloads ---- */

/* kab_guest's build_job(): the size of the next round. */
static double job_next_len(struct job *j)
{
	j->seed = j->seed * 1103515245 + 12345;
	return j->mib / 4 + (j->seed >> 8) % (j->mib - j->mib / 4 + 1);
}

/* The job's next round, from the read of its sources (if any) on. */
static void job_round(struct job *j)
{
	j->len = job_next_len(j);
	j->stage = j->cache ? STAGE_READ : STAGE_PASS;
	j->pass = 0;
	j->pos = 0;
}

static void job_begin(struct job *j, double t, bool fresh)
{
	j->seed = j->seed0;
	j->round = 0;
	job_round(j);
	if (j->cache)
		j->stage = STAGE_SOURCES;
	j->running = true;
	if (fresh)
		j->began = t;
}

/* MiB the job's current stage goes over. */
static double job_stage_len(const struct job *j)
{
	switch (j->stage) {
	case STAGE_SOURCES:
	case STAGE_READ:
		return j->cache;
	case STAGE_WRITE:
		return j->cache / 2;
	default:
		return j->len;
	}
}

/*
 * The job's file I/O with @c seconds of CPU: the sources are read or
 * written where they are cached (a host swap-in where the host swapped
 * them out) and come into the page cache where they are not; objects are
 * new page cache. Returns the CPU left.
 */
static double job_io(struct sim *s, struct sim_vm *vm, double c)
{
	struct job *j = &vm->job;
	double dx = fmin(job_stage_len(j) - j->pos, 4), hit, miss, unit, pm;
	double host;

	/*
	 * What the stage went over is cached now; of the rest, what the
	 * sources in the cache hold beyond it (evenly spread).
	 */
	hit = j->stage == STAGE_WRITE ? 0 :
	      dx * fmin(1, fmax(0, vm->src - j->pos) /
			   fmax(job_stage_len(j) - j->pos, TINY));
	miss = dx - hit;
	unit = vm->src > 0 ? vm->src_hswap / vm->src : 0;
	pm = s->io_cost + s->page_cost * unit;
	if (hit * pm >= c) {
		hit = c / pm;
		miss = 0;
	}
	vm->src_hswap -= hit * unit;
	swap_in(s, hit * unit);
	c -= hit * pm;
	j->pos += hit;
	if (miss > TINY && c > TINY) {
		/* An estimate of the cost, to stop where the CPU runs out. */
		miss = fmin(miss, c / (s->io_cost + s->fault_cost + EPS));
		guest_alloc(s, vm, miss, j->stage == STAGE_WRITE ?
			    ALLOC_CACHE : ALLOC_SRC, &host);
		/* A write that finds no room is done all the same. */
		c -= miss * s->io_cost + host;
		j->pos += miss;
	}
	return fmax(0, c);
}

static double job_gap(struct job *j)
{
	if (!j->gap_hi)
		return 1e18;
	return j->gap_lo + (j->gap_hi - j->gap_lo) * rng_uniform(&j->rng);
}

/* The OOM killer took the job: its memory is free, it starts over. */
static void job_killed(struct sim *s, struct sim_vm *vm, double t)
{
	guest_oom(s, vm, t);
	guest_free_anon(vm, vm->anon);
	vm->job.running = false;
	vm->job.ooms++;
	vm->job.killed = true;
	vm->job.restart_at = t + RESTART_DELAY;
}

/*
 * Run the job for @c seconds of CPU: the first pass of a round allocates
 * (touched free pages first, else a host fault), the other three touch
 * what is there (swapping in what the host swapped out).
 */
static void job_run(struct sim *s, struct sim_vm *vm, double c, double t)
{
	struct job *j = &vm->job;

	while (c > EPS && j->running) {
		double left = j->len - j->pos, dx, pm, host, got, res, unit;

		if (j->stage != STAGE_PASS) {
			c = job_io(s, vm, c);
			if (j->pos < job_stage_len(j) - EPS)
				continue;
			j->pos = 0;
			if (j->stage == STAGE_WRITE)
				goto round_done;
			j->stage = STAGE_PASS;
			continue;
		}
		if (j->pass == 0) {
			double touched = vm->free_res + vm->free_swap;
			double free = fmax(vm_free(vm), EPS);

			dx = fmin(left, 4);
			/* An estimate: the mix of the free memory as a whole. */
			unit = vm->free_swap / free;
			pm = s->touch_cost + s->page_cost * unit +
			     s->fault_cost * fmax(0, free - touched) / free;
			dx = fmin(dx, c / pm);
			got = guest_alloc(s, vm, dx, ALLOC_ANON, &host);
			c -= got * s->touch_cost + host;
			j->pos += got;
			if (got < dx - EPS) {
				job_killed(s, vm, t);
				break;
			}
		} else {
			res = vm->anon - vm->gswap;
			unit = res > 0 ? vm->anon_hswap / res : 0;
			pm = s->touch_cost + s->page_cost * unit;
			dx = fmin(left, c / pm);
			host = dx * unit;
			vm->anon_hswap -= host;
			swap_in(s, host);
			c -= dx * pm;
			j->pos += dx;
		}
		if (j->pos < j->len - EPS)
			continue;
		j->pos = 0;
		if (++j->pass < 4)
			continue;
		guest_free_anon(vm, vm->anon);
		if (j->cache) {
			j->stage = STAGE_WRITE;
			continue;
		}
round_done:
		if (++j->round < j->rounds) {
			job_round(j);
			continue;
		}
		j->running = false;
		j->finished++;
		j->runtime_sum += t - j->began;
		j->runtime_max = fmax(j->runtime_max, t - j->began);
		j->restart_at = t + job_gap(j);
	}
}

static void job_step(struct sim_vm *vm, double t)
{
	struct job *j = &vm->job;

	if (j->running || t < j->restart_at - EPS)
		return;
	/* A restart after an OOM kill keeps the job's start time. */
	job_begin(j, t, !j->killed);
	j->killed = false;
}

/* A trace VM: its anonymous memory follows the working set. */
static void trace_step(struct sim *s, struct sim_vm *vm, double t)
{
	double ws = t < vm->down_until ? 0 : vm->dem.ws, host, got, sw, res;

	if (ws > vm->anon) {
		got = guest_alloc(s, vm, ws - vm->anon, ALLOC_ANON, &host);
		vm->lost += host;
		if (got < ws - vm->anon - EPS) {
			guest_oom(s, vm, t);
			guest_free_anon(vm, vm->anon);
			vm->down_until = t + 1;
		}
	} else if (ws < vm->anon) {
		guest_free_anon(vm, vm->anon - ws);
	}
	if (vm->dem.io_rate > 0) {
		guest_alloc(s, vm, vm->dem.io_rate * DT, ALLOC_CACHE, &host);
		vm->lost += host;
	}
	/* The working set is touched within WS_WINDOW. */
	if (vm->gswap > 0) {
		double back = fmin(vm->gswap * DT / WS_WINDOW,
				   fmax(0, vm_free(vm) - vm->wm.high));

		sw = take_free(s, vm, back, &host);
		vm->gswap -= back;
		vm->lost += (back + sw) * s->page_cost;
	}
	res = vm->anon - vm->gswap;
	sw = res > 0 ? vm->anon_hswap * DT / WS_WINDOW : 0;
	vm->anon_hswap -= sw;
	swap_in(s, sw);
	vm->lost += sw * s->page_cost;
}

/* kswapd: free memory under the low watermark is reclaimed to high. */
static void kswapd_step(struct sim_vm *vm)
{
	double free = vm_free(vm);

	if (free < vm->wm.low)
		guest_reclaim(vm, vm->wm.high - free);
}

/* ---- the balloon ---- */

static void set_target(struct sim_vm *vm, double target, double now)
{
	target = fmin(fmax(target, 0), vm->size - vm->floor);
	if (fabs(target - vm->pending) < EPS)
		return;
	/* The VMM applies the newest target, a hand-off after the first. */
	if (vm->pending == vm->target)
		vm->pending_at = now + HANDOFF;
	vm->pending = target;
}

static void balloon_apply(struct sim_vm *vm, double t, struct metrics *m)
{
	int dir;

	if (t < vm->pending_at || vm->target == vm->pending)
		return;
	dir = vm->pending > vm->target ? 1 : -1;
	if (vm->last_dir && dir != vm->last_dir)
		m->dir_changes++;
	vm->last_dir = dir;
	vm->target = vm->pending;
}

/* CPU the balloon would use to reach its target, s. */
static double balloon_need(const struct sim *s, const struct sim_vm *vm)
{
	double d = vm->target - vm->balloon;

	return d > 0 ? d * s->inflate_cost : -d * s->deflate_cost;
}

/*
 * Move the balloon with @c seconds of its vCPU. Inflation takes free pages
 * (touched ones first; init_on_alloc=1 zeroes each, so a page the host
 * swapped out is swapped in to be discarded) and reclaims page cache for
 * them, but never takes the guest under its low watermark.
 */
static void balloon_move(struct sim *s, struct sim_vm *vm, double c)
{
	double d = vm->target - vm->balloon, x, room, fault, sw;

	if (d > EPS) {
		x = fmin(d, c / s->inflate_cost);
		room = vm_free(vm) - vm->wm.low;
		if (room < x && vm->cache > 0) {
			guest_reclaim(vm, x - room);
			room = vm_free(vm) - vm->wm.low;
		}
		x = fmax(0, fmin(x, room));
		if (s->balloon_old) {
			double res;

			seg_pop_old(vm, x, &res, &sw, &fault);
			swap_in(s, sw);
		} else {
			sw = take_free(s, vm, x, &fault);
		}
		vm->balloon += x;
		vm->moved_in += x;
		s->h.cpu_debt += sw * s->page_cost;
		s->m.churn += x;
	} else if (d < -EPS) {
		x = fmin(-d, c / s->deflate_cost);
		vm->balloon -= x;
		seg_push(vm, 0, 0, x);
		s->m.churn += x;
	}
}

/* ---- the host ---- */

enum host_class { CLASS_BASE, CLASS_FREE, CLASS_CACHE, CLASS_ANON };

static double class_resident(const struct sim_vm *vm, enum host_class k)
{
	switch (k) {
	case CLASS_FREE:
		return vm->free_res;
	case CLASS_CACHE:
		return vm->cache - vm->cache_hswap;
	default:
		return vm->anon - vm->gswap - vm->anon_hswap +
		       vm->src - vm->src_hswap;
	}
}

/* Swap out guest memory of class @k to free @need MiB of RAM; returns the rest. */
static double host_swap_out(struct sim *s, enum host_class k, double need)
{
	double total = 0, x, f, zr = s->zram_ratio;
	unsigned int i;

	if (k == CLASS_BASE) {
		x = fmin(fmin(need / (1 - zr), s->h.base_cold),
			 s->h.swap_max - s->h.swap);
		if (x <= 0)
			return need;
		s->h.base_cold -= x;
		s->h.base -= x;
		goto out;
	}
	for (i = 0; i < s->nr; i++)
		total += class_resident(&s->vms[i], k);
	x = fmin(fmin(need / (1 - zr), total), s->h.swap_max - s->h.swap);
	if (x <= 0)
		return need;
	f = x / total;
	for (i = 0; i < s->nr; i++) {
		struct sim_vm *vm = &s->vms[i];
		double y = f * class_resident(vm, k);

		double src = vm->src - vm->src_hswap;

		if (k == CLASS_FREE) {
			seg_convert(vm, y, true);
		} else if (k == CLASS_CACHE) {
			vm->cache_hswap += y;
		} else {
			/* The sources and the job's memory are as hot. */
			src = y > 0 ? y * src / class_resident(vm, k) : 0;
			vm->src_hswap += src;
			vm->anon_hswap += y - src;
		}
	}
out:
	s->h.swap += x;
	s->m.pswpout += x;
	s->h.cpu_debt += x * s->page_cost;
	return fmax(0, need - x * (1 - zr));
}

/*
 * The guests' free pages and page cache touched once are as cold as each
 * other to the host's LRU: swap them out together, in proportion.
 */
static double host_swap_out_cold(struct sim *s, double need)
{
	double fr = 0, ca = 0, part;
	unsigned int i;

	for (i = 0; i < s->nr; i++) {
		fr += class_resident(&s->vms[i], CLASS_FREE);
		ca += class_resident(&s->vms[i], CLASS_CACHE);
	}
	if (need <= 0 || fr + ca <= TINY)
		return need;
	part = need * fr / (fr + ca);
	need = host_swap_out(s, CLASS_FREE, part) + (need - part);
	need = host_swap_out(s, CLASS_CACHE, need);
	return host_swap_out(s, CLASS_FREE, need);
}

static void host_update_free(struct sim *s)
{
	struct host *h = &s->h;
	double resident = 0;
	unsigned int i;

	for (i = 0; i < s->nr; i++)
		resident += vm_resident(&s->vms[i]);
	h->free = h->ram - h->base - resident - h->cache -
		  s->zram_ratio * h->swap;
}

static void host_step(struct sim *s)
{
	struct host *h = &s->h;
	double need, take, io = h->io_rate, out0;
	unsigned int i;

	/*
	 * Guest disk I/O goes through the host page cache too (writeback),
	 * except on the test VM, whose guests' disks are cache=none.
	 */
	for (i = 0; i < s->nr && !s->sc->ram; i++)
		io += s->vms[i].dem.io_rate;
	h->cache += io * DT;
	host_update_free(s);
	h->level = KAB_LEVEL_NONE;
	if (h->free >= h->wm.low)
		goto out;
	out0 = s->m.pswpout;
	need = h->wm.high - h->free;
	take = fmin(need, h->cache);
	h->cache -= take;
	need -= take;
	h->level = KAB_LEVEL_LOW;
	need = host_swap_out(s, CLASS_BASE, need);
	need = host_swap_out_cold(s, need);
	if (need > 0) {
		h->level = KAB_LEVEL_MEDIUM;
		need = host_swap_out(s, CLASS_ANON, need);
	}
	/*
	 * More to swap in one step than kswapd's share of the CPUs can
	 * write: allocations reclaim directly, vmpressure's critical.
	 */
	if (s->m.pswpout - out0 > s->cpus * DT / (s->nr + 1) / s->page_cost)
		h->level = KAB_LEVEL_CRITICAL;
	if (need > 0)
		h->level = KAB_LEVEL_CRITICAL;
	if (need > 0)
		s->m.host_short += need * DT;
	host_update_free(s);
out:
	s->m.swap_peak = fmax(s->m.swap_peak, h->swap);
	if (h->level > h->window_level)
		h->window_level = h->level;
}

/*
 * CPU: the host's swap work (kswapd) and each VM with work get an even
 * share of the host's CPUs, each at most one CPU; within a VM the job and
 * the balloon share its vCPU evenly. What one does not need goes to the
 * others.
 */
static void cpu_share(struct sim *s)
{
	unsigned int i, n = s->nr, open, round;
	double budget = s->cpus * DT, share, left;
	double *need = calloc(n + 1, sizeof(*need));
	double *got = calloc(n + 1, sizeof(*got));
	bool *done = calloc(n + 1, sizeof(*done));

	if (!need || !got || !done)
		exit(1);
	for (i = 0; i < n; i++) {
		struct sim_vm *vm = &s->vms[i];

		need[i] = fmin(DT, balloon_need(s, vm) +
				   (job_busy(vm) ? DT : 0));
	}
	need[n] = fmin(DT, s->h.cpu_debt);
	/* Water-filling. */
	for (round = 0; round <= n; round++) {
		open = 0;
		for (i = 0; i <= n; i++)
			open += !done[i] && need[i] > TINY;
		if (!open || budget <= TINY)
			break;
		share = budget / open;
		left = budget;
		for (i = 0; i <= n; i++) {
			if (done[i] || need[i] <= TINY)
				continue;
			if (need[i] - got[i] <= share) {
				left -= need[i] - got[i];
				got[i] = need[i];
				done[i] = true;
			}
		}
		if (left == budget) {
			for (i = 0; i <= n; i++)
				if (!done[i] && need[i] > TINY)
					got[i] += share;
			break;
		}
		budget = left;
	}
	s->h.cpu_debt -= got[n];
	for (i = 0; i < n; i++) {
		struct sim_vm *vm = &s->vms[i];
		double b = balloon_need(s, vm);

		if (!job_busy(vm)) {
			vm->cpu_balloon = got[i];
			vm->cpu_job = 0;
		} else {
			vm->cpu_balloon = fmin(b, fmax(got[i] / 2, 0));
			vm->cpu_job = got[i] - vm->cpu_balloon;
		}
	}
	free(need);
	free(got);
	free(done);
}

/* ---- policies ---- */

/*
 * kvm_autoballoon: feed events to policy.c as the module does: new guest
 * figures (kab_policy_guest_stats()), global host pressure with the
 * host's RAM and available memory (free above the high watermark + page
 * cache, as si_mem_available() counts it), guest rings,
 * ticks with the host's figures, the host's headroom after them.
 */
static void kab_step(struct sim *s, struct kab_policy_vm **pols, double t,
		     bool host_due, bool tick_due)
{
	unsigned long long now = (unsigned long long)(t * NSEC) + NSEC;
	/* si_mem_available(): what is free above the reserves, and cache. */
	struct kab_policy_host host = {
		.total_pages = mib_pages(s->h.ram),
		.available_pages = mib_pages(fmax(0, s->h.free - s->h.wm.high) +
					     s->h.cache),
	};
	unsigned int i;

	for (i = 0; i < s->nr && !withhold_figures; i++) {
		struct sim_vm *vm = &s->vms[i];

		if (vm->stats.fresh) {
			kab_guest_figures(vm, now);
			kab_policy_guest_stats(&params, &vm->pol, now);
		}
	}
	if (host_due && s->h.window_level)
		kab_policy_host_event(&params, withhold_figures ? NULL : &host,
				      pols, s->nr, s->h.window_level, now);
	for (i = 0; i < s->nr; i++) {
		struct sim_vm *vm = &s->vms[i];

		if (vm->ring)
			kab_policy_guest_event(&params, &vm->pol, vm->ring, 1,
					       now);
		if (tick_due)
			kab_policy_tick(&params, withhold_figures ? NULL : &host,
					&vm->pol, now);
	}
	/* After the VMs' ticks, as the module's tick does. */
	if (tick_due && !withhold_figures)
		kab_policy_headroom(&params, &host, pols, s->nr, now);
	for (i = 0; i < s->nr; i++) {
		struct sim_vm *vm = &s->vms[i];

		if (vm->pol.seq != vm->seen_seq) {
			vm->seen_seq = vm->pol.seq;
			set_target(vm, vm->pol.target_pages / PAGES_PER_MIB, t);
		}
	}
}

/*
 * oVirt MOM's balloon rules, as bench/reaction/baseline.py runs them: every
 * 10 s, host MemFree + Cached under 20 % of RAM shrinks each guest by up to
 * 5 %, not below its used memory (size - the free memory its statistics
 * report) plus a share of its size that scales with host free memory
 * (negative at 5 % or less: the guest is forced to give), nor below its
 * floor; else it grows by 5 %, keeping used + 20 %. Changes under 0.25 % of
 * its size are not made.
 */
static void mom_step(struct sim *s, double t)
{
	double host = (s->h.free + s->h.cache) / s->h.ram;
	unsigned int i;

	for (i = 0; i < s->nr; i++) {
		struct sim_vm *vm = &s->vms[i];
		double cur = vm_avail_size(vm), size, share, used;

		if (vm->stats.at < 0)
			continue;
		used = cur - fmin(cur, vm->stats.free);
		if (host < 0.20) {
			share = host <= 0.05 ? host - 0.05 : host;
			size = fmax(fmax(cur * 0.95, vm->floor),
				    used + share * cur);
		} else {
			size = fmax(fmin(cur * 1.05, vm->size), used + 0.20 * cur);
		}
		size = fmin(size, vm->size);
		if (fabs(size - cur) > 0.0025 * cur)
			set_target(vm, vm->size - size, t);
	}
}

/*
 * Xen self-ballooning: every 5 s each guest heads for its committed memory
 * (what its workload has asked for, and its kernel) plus a reserve, all the way up at once,
 * down by 1/8 of the gap (down hysteresis 8). It does not look at the host.
 */
static void xen_step(struct sim *s, double t)
{
	unsigned int i;

	for (i = 0; i < s->nr; i++) {
		struct sim_vm *vm = &s->vms[i];
		double cur = vm_avail_size(vm);
		double committed = vm->has_job ?
				   (vm->job.running ? vm->job.len : 0) :
				   vm->dem.ws;
		double goal = vm->kern + committed + 0.01 * vm->size;

		if (cur > goal)
			cur -= (cur - goal) / 8;
		else
			cur = goal;
		set_target(vm, vm->size - cur, t);
	}
}

/*
 * ChromeOS-style: every second, keep host available memory above a 10 %
 * margin by taking guest cache (the statistics' figure, split evenly), give
 * a guest under pressure what it needs back, and block the opposite
 * direction after a resize: 10 s after a high-priority one (a guest at
 * medium or critical pressure), 100 s after a low-priority one (reclaiming
 * guest cache for the host). A block stops only requests of its priority or
 * lower.
 */
static void chromeos_step(struct sim *s, double t)
{
	double avail = s->h.free + s->h.cache, deficit = 0.10 * s->h.ram - avail;
	unsigned int i, donors = 0;

	for (i = 0; i < s->nr; i++)
		donors += s->vms[i].stats.cache > 0 && !s->vms[i].level;
	for (i = 0; i < s->nr; i++) {
		struct sim_vm *vm = &s->vms[i];
		double need, give;

		if (vm->level >= KAB_LEVEL_MEDIUM) {
			if (t < vm->block_deflate_until &&
			    vm->block_deflate_prio >= 2)
				continue;
			need = fmax(0.05 * vm->size - vm->stats.avail,
				    0.02 * vm->size);
			set_target(vm, vm->balloon - need, t);
			vm->block_inflate_until = t + 10;
			vm->block_inflate_prio = 2;
			continue;
		}
		if (deficit > 0 && donors && !vm->level &&
		    vm->stats.cache > 0 && t >= vm->block_inflate_until) {
			give = fmin(vm->stats.cache, deficit / donors);
			set_target(vm, vm->balloon + give, t);
			vm->block_deflate_until = t + 100;
			vm->block_deflate_prio = 1;
		}
	}
}

/*
 * The working set an oracle plans for: a trace's 5 s ahead; a job's
 * largest round with its sources and the objects a round writes (1.5 x
 * its cache, as bench/rfc's rfc.py counts it).
 */
static double oracle_need(const struct sim_vm *vm, double ws_ahead,
			  double t)
{
	if (!vm->has_job)
		return ws_ahead;
	/* The largest round it may start, 10 s before it starts. */
	if (!vm->job.running && vm->job.restart_at > t + 10)
		return 0;
	return vm->job.mib + 1.5 * vm->job.cache;
}

/*
 * The oracle leaves the kernel, the working set and 2 % of the size or the
 * guest's high watermark, whichever is larger: under the watermarks the
 * guest reclaims, and a swapless one kills.
 */
static void oracle_step(struct sim *s, double t, const double *ws_ahead)
{
	unsigned int i;

	for (i = 0; i < s->nr; i++) {
		struct sim_vm *vm = &s->vms[i];

		set_target(vm, vm->size - vm->kern -
			   oracle_need(vm, ws_ahead[i], t) -
			   fmax(0.02 * vm->size, vm->wm.high), t);
	}
}

/* ---- the unavoidable minimum ---- */

/*
 * Host swap an oracle could not avoid, given the working set of each guest
 * at time t (need[i], without kern), of which slow[i] MiB (a job's sources)
 * are touched once per slow_period[i] and the rest once per period[i]: the
 * deficit D over usable RAM must be on swap; each rise of D is swapped out,
 * and the swapped part is re-faulted once per period of what the oracle
 * puts there: the memory touched least often first.
 */
struct min_need {
	double need, slow, period, slow_period;
};

static void min_swap_account(struct sim *s, const struct min_need *n,
			     double *prev)
{
	double sum = s->h.base, p = 0, ps = 0, d, ds, slow = 0;
	double cold = s->h.base_cold;
	unsigned int i;

	for (i = 0; i < s->nr; i++) {
		sum += s->vms[i].kern_host + n[i].need;
		slow += n[i].slow;
		if (n[i].need > n[i].slow)
			p = fmax(p, n[i].period);
		if (n[i].slow > 0)
			ps = fmax(ps, n[i].slow_period);
	}
	d = fmax(0, sum - (s->h.ram - s->h.wm.high));
	s->m.min_peak = fmax(s->m.min_peak, d);
	/* Cold host memory goes out once and never comes back. */
	s->m.min_cold = fmax(s->m.min_cold, fmin(d, cold));
	d = fmax(0, d - cold);
	if (d > *prev) {
		s->m.min_out += d - *prev;
		s->m.min_rise += d - *prev;
	}
	*prev = d;
	ds = fmin(d, slow);
	if (ds > 0 && ps > 0)
		s->m.min_out += ds * DT / ps;
	if (d > ds && p > 0)
		s->m.min_out += (d - ds) * DT / p;
}

/*
 * The jobs' unimpeded timeline (touch_cost and io_cost only, the CPUs
 * shared by the running jobs), for the minimum of a job scenario.
 */
static void min_swap_jobs(struct sim *s)
{
	unsigned int i, nr = s->nr, busy;
	struct job *jobs = calloc(nr, sizeof(*jobs));
	struct min_need *n = calloc(nr, sizeof(*n));
	double t, prev = 0, share;
	bool later;

	if (!jobs || !n)
		exit(1);
	for (i = 0; i < nr; i++)
		jobs[i] = s->vms[i].job;
	for (t = 0; t < s->sc->duration; t += DT) {
		busy = 0;
		later = false;
		for (i = 0; i < nr; i++) {
			struct job *j = &jobs[i];

			if (!j->running && t >= j->restart_at - EPS)
				job_begin(j, t, true);
			busy += j->running;
			later |= j->running || j->restart_at < 1e17;
		}
		if (!later)
			break;
		share = busy ? fmin(1, (double)s->sc->cpus / busy) * DT : 0;
		for (i = 0; i < nr; i++) {
			struct job *j = &jobs[i];
			double c = share, len = job_stage_len(j), cost;

			n[i] = (struct min_need){ 0 };
			if (!j->running)
				continue;
			n[i].slow = j->stage == STAGE_SOURCES ? j->pos : j->cache;
			n[i].need = n[i].slow + (j->stage != STAGE_PASS ? 0 :
						 j->pass ? j->len : j->pos);
			if (j->stage == STAGE_WRITE)
				n[i].need += j->pos;
			n[i].period = j->len * s->touch_cost / (share / DT);
			n[i].slow_period = (4 * j->len * s->touch_cost +
					    1.5 * j->cache * s->io_cost) /
					   (share / DT);
			while (c > TINY && j->running) {
				cost = j->stage == STAGE_PASS ? s->touch_cost :
				       s->io_cost;
				if (cost <= 0 || (len - j->pos) * cost > c) {
					j->pos += cost > 0 ? c / cost : len;
					c = 0;
					if (j->pos < len)
						break;
				} else {
					c -= (len - j->pos) * cost;
				}
				j->pos = 0;
				if (j->stage != STAGE_PASS) {
					if (j->stage != STAGE_WRITE) {
						j->stage = STAGE_PASS;
					} else if (++j->round < j->rounds) {
						job_round(j);
					} else {
						j->running = false;
						j->restart_at = t + job_gap(j);
					}
				} else if (++j->pass == 4) {
					if (j->cache) {
						j->stage = STAGE_WRITE;
					} else if (++j->round < j->rounds) {
						job_round(j);
					} else {
						j->running = false;
						j->restart_at = t + job_gap(j);
					}
				}
				len = job_stage_len(j);
			}
		}
		min_swap_account(s, n, &prev);
	}
	free(jobs);
	free(n);
}

/* ---- the world ---- */

static void print_header(void)
{
	printf("scenario\tpolicy\tfpr\tdetector\tnr_vms\thours\t"
	       "reclaimed_gibh\tunmet_pct\tooms\tpswpout\tpswpin\t"
	       "swap_peak_mib\tlost_pct\tchurn_gib\tdir_changes\t"
	       "jobs_done\tjob_mean_s\tjob_max_s\tjob_runtimes_s\t"
	       "rings_low\trings_medium\trings_critical\tinflate_mibps\t"
	       "min_pswpout\tmin_swap_peak_mib\thost_short_gibh\t"
	       "host_idle_gibh\tinflations\tdeflations\tstalls\t"
	       "min_once_pswpout\n");
}

static void account(struct sim *s, struct sim_vm *vm, double t)
{
	bool unmet = t < vm->down_until ||
		     (vm->has_job && !vm->job.running && vm->job.killed) ||
		     (!vm->has_job && vm->kern + vm->dem.ws >
		      vm_avail_size(vm) - vm->wm.min);

	s->m.reclaimed += vm->balloon * DT;
	if (unmet) {
		s->m.unmet += DT;
		if (!vm->unmet)
			vm->unmet_since = t;
	} else if (vm->unmet) {
		s->m.unmet_episode_sum += t - vm->unmet_since;
		s->m.unmet_episodes++;
	}
	vm->unmet = unmet;
}

static void scenario_machine(struct sim *s, double sum_size)
{
	const struct scenario *sc = s->sc;
	struct host *h = &s->h;

	if (sc->ram) {
		h->ram = model_or("ram", sc->ram);
		/* The guests' touched free memory is theirs, not the base's. */
		h->base = model_or("base", sc->base) -
			  s->nr * model_or("guest_cold", sc->guest_cold);
		h->swap_max = sc->swap;
		h->io_rate = sc->host_io;
		s->page_cost = model_or("page_ms", sc->page_ms) / 1000;
		s->fault_cost = model_or("fault_ms", sc->fault_ms) / 1000;
		h->base_cold = model_or("base_cold", sc->base_cold);
		s->touch_cost = model_or("touch_ms", sc->touch_ms) / 1000;
		s->io_cost = model_or("io_ms", sc->io_ms) / 1000;
		s->balloon_old = model_or("balloon_old", 0);
		s->balloon_trend = model_or("balloon_trend", 0);
		s->alloc_fresh = model_or("alloc_fresh", 0);
		s->inflate_cost = 1 / model_or("inflate_rate",
					       sc->inflate_rate);
		s->deflate_cost = 1 / model_or("deflate_rate",
					       sc->deflate_rate);
		s->zram_ratio = sc->zram_ratio;
		s->cpus = sc->cpus;
	} else {
		/*
		 * A real host: balloons at the speeds bench/guest measured
		 * (virtio_balloon on 6.1, medians 95 and 475 MiB/s), zram
		 * swap of a quarter of RAM at 3:1, a swap-in costs ~4 us
		 * per page.
		 */
		h->base = 1024 + 0.02 * sum_size;
		h->ram = h->base + sc->host_ratio * sum_size;
		h->swap_max = 0.25 * h->ram;
		h->io_rate = 20;
		s->page_cost = 0.001;
		s->fault_cost = 0;
		s->touch_cost = 0.001;
		s->inflate_cost = 1 / 95.0;
		s->deflate_cost = 1 / 475.0;
		s->zram_ratio = 0.33;	/* zram's usual 3:1 */
		s->cpus = s->nr;	/* a CPU per vCPU: not CPU bound */
	}
	h->wm = linux_wmarks(h->ram, sc->host_min_free);
}

static int run(const struct scenario *sc, enum policy_kind pk,
	       enum detector_kind det, bool fpr, unsigned long long seed,
	       const char *trace_path)
{
	unsigned int nr = sc->nr, i, k, nbusy;
	struct sim_vm *ahead = calloc(nr, sizeof(*ahead));
	struct kab_policy_vm **pols = calloc(nr, sizeof(*pols));
	double *ws_ahead = calloc(nr, sizeof(*ws_ahead));
	double *period = calloc(nr, sizeof(*period));
	double sum_size = 0, sum_ws, sum_alloc, t, min_prev = 0, gcold;
	unsigned long step, nsteps = (unsigned long)(sc->duration / DT);
	unsigned int lookahead = (unsigned int)(5.0 / DT);
	unsigned long rings[KAB_NR_LEVELS] = { 0 };
	double moved = 0, moved_time = 0, rt_sum = 0, rt_max = 0, lost = 0;
	struct min_need *need = calloc(nr, sizeof(*need));
	unsigned long long infl = 0, defl = 0, stalls = 0;
	unsigned int done = 0, jobs = 0;
	char runtimes[512] = "";
	struct sim s = { 0 };
	FILE *trace = NULL;

	s.sc = sc;
	s.nr = nr;
	s.pk = pk;
	s.det = det;
	s.fpr = fpr;
	s.vms = calloc(nr, sizeof(*s.vms));
	if (!s.vms || !ahead || !pols || !ws_ahead || !period || !need ||
	    apply_overrides())
		return 1;
	for (i = 0; i < nr; i++) {
		struct sim_vm *vm = &s.vms[i];

		vm->dem.rng.s = seed * 1000003ULL + i * 7919ULL + 1;
		vm->job.rng.s = seed * 1000033ULL + i * 7907ULL + 3;
		vm_common_init(vm, sc->vm_size[i % 3]);
		sc->init(vm, i, nr);
		vm->kern = sc->kern ? model_or("kern", sc->kern) :
				      0.02 * vm->size;
		vm->kern_host = sc->kern ? model_or("kern_host", sc->kern_host) :
					   vm->kern;
		if (sc->floor)
			vm->floor = sc->floor;
		vm->wm = linux_wmarks(vm->size, sc->guest_min_free);
		vm->fpr_at = -1;
		/*
		 * Free memory the guest touched while it booted sits under
		 * what it never touched (-m guest_cold=MiB).
		 */
		gcold = sc->ram ? fmin(model_or("guest_cold", sc->guest_cold),
				       vm_free(vm)) : 0;
		seg_push(vm, gcold, 0, 0);
		seg_push(vm, 0, 0, vm_free(vm) - gcold);
		vm->det.eval_at = -1;
		vm->det.prev_at = -1;
		vm->stats.at = -1;
		for (k = 0; k < KAB_NR_LEVELS; k++)
			vm->det.last_report[k] = -1e9;
		/* An idle guest's hoarded cache is touched and resident. */
		sum_size += vm->size;
		vm->pol.total_pages = (u64)(vm->size * PAGES_PER_MIB);
		vm->pol.floor_pages = (u64)(vm->floor * PAGES_PER_MIB);
		vm->pol.ceiling_pages = vm->pol.total_pages;
		vm->pol.weight = 100;
		if (kab_policy_vm_init(&params, &vm->pol, NSEC))
			return 1;
		vm->seen_seq = vm->pol.seq;
		pols[i] = &vm->pol;
		/* The oracle's look-ahead copy of the demand generator. */
		ahead[i].dem = vm->dem;
	}
	scenario_machine(&s, sum_size);
	if (s.vms[0].has_job)
		min_swap_jobs(&s);
	for (i = 0; i < nr; i++)
		for (k = 0; k < lookahead; k++)
			demand_step(&ahead[i].dem, k * DT);

	if (trace_path) {
		trace = fopen(trace_path, "w");
		if (!trace)
			return 1;
		fprintf(trace, "t_min\tdemand_gib\tallocated_gib\t"
			"host_free_gib\tvm0_demand_gib\tvm0_allocated_gib\t"
			"host_swap_gib\tvm0_balloon_gib\n");
	}

	for (step = 0; step < nsteps; step++) {
		bool host_due = step % (unsigned long)(HOST_PERIOD / DT) == 0;
		bool tick_due = step % (unsigned long)(TICK_PERIOD / DT) == 0;

		t = step * DT;
		nbusy = 0;
		/* The guests run. */
		for (i = 0; i < nr; i++) {
			struct sim_vm *vm = &s.vms[i];

			vm->ring = KAB_LEVEL_NONE;
			balloon_apply(vm, t, &s.m);
			if (vm->has_job) {
				job_step(vm, t);
				nbusy += job_busy(vm) ||
					 vm->job.restart_at < 1e17;
				continue;
			}
			demand_step(&vm->dem, t);
			demand_step(&ahead[i].dem, t + lookahead * DT);
			ws_ahead[i] = fmax(vm->dem.ws, ahead[i].dem.ws);
			period[i] = WS_WINDOW;
			trace_step(&s, vm, t);
		}
		cpu_share(&s);
		for (i = 0; i < nr; i++) {
			struct sim_vm *vm = &s.vms[i];

			if (vm->target > vm->balloon + EPS)
				vm->moved_in_time += DT;
			balloon_move(&s, vm, vm->cpu_balloon);
			if (vm->has_job)
				job_run(&s, vm, vm->cpu_job, t);
			kswapd_step(vm);
			fpr_step(&s, vm, t);
			detect(&s, vm, t);
			stats_step(&s, vm, t);
			if (vm->ring) {
				vm->level = vm->ring;
				vm->level_at = t;
			} else if (t - vm->level_at > 5) {
				vm->level = KAB_LEVEL_NONE;
			}
		}
		if (!s.vms[0].has_job) {
			for (i = 0; i < nr; i++)
				need[i] = (struct min_need){
					.need = s.vms[i].dem.ws,
					.period = WS_WINDOW,
				};
			min_swap_account(&s, need, &min_prev);
		}
		host_step(&s);
		if (s.h.free > s.h.wm.high)
			s.m.host_idle += (s.h.free - s.h.wm.high) * DT;

		switch (pk) {
		case POL_KAB:
			kab_step(&s, pols, t, host_due, tick_due);
			break;
		case POL_MOM:
			if (step % 100 == 0)
				mom_step(&s, t);
			break;
		case POL_XEN:
			if (step % 50 == 0)
				xen_step(&s, t);
			break;
		case POL_CHROMEOS:
			if (tick_due)
				chromeos_step(&s, t);
			break;
		case POL_ORACLE:
			oracle_step(&s, t, ws_ahead);
			break;
		default:
			break;
		}
		if (host_due)
			s.h.window_level = KAB_LEVEL_NONE;

		for (i = 0; i < nr; i++) {
			struct sim_vm *vm = &s.vms[i];

			if (pk == POL_KAB)
				kab_policy_actual(&params, &vm->pol,
						  (u64)(vm->balloon * PAGES_PER_MIB),
						  (unsigned long long)(t * NSEC) +
						  NSEC);
			account(&s, vm, t);
		}

		if (trace && step % (unsigned long)(TRACE_PERIOD / DT) == 0) {
			sum_ws = 0;
			sum_alloc = 0;
			for (i = 0; i < nr; i++) {
				sum_ws += s.vms[i].has_job ? s.vms[i].anon :
							     s.vms[i].dem.ws;
				sum_alloc += s.vms[i].size - s.vms[i].target;
			}
			fprintf(trace, "%.2f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\n",
				t / 60, sum_ws / 1024, sum_alloc / 1024,
				s.h.free / 1024,
				(s.vms[0].has_job ? s.vms[0].anon :
				 s.vms[0].dem.ws) / 1024,
				(s.vms[0].size - s.vms[0].target) / 1024,
				s.h.swap / 1024, s.vms[0].balloon / 1024);
		}
		/* A job scenario ends when every job is done. */
		if (s.vms[0].has_job && !nbusy)
			break;
	}
	t = (double)step * DT;
	for (i = 0; i < nr; i++) {
		struct sim_vm *vm = &s.vms[i];

		if (vm->unmet) {
			s.m.unmet_episode_sum += t - vm->unmet_since;
			s.m.unmet_episodes++;
		}
		for (k = 0; k < KAB_NR_LEVELS; k++)
			rings[k] += vm->det.reported[k];
		if (getenv("KAB_SIM_DEBUG"))
			fprintf(stderr,
				"vm%u: inflations %llu deflations %llu stalls %llu dropped %llu target %.0f balloon %.0f rings %lu/%lu/%lu\n",
				i,
				(unsigned long long)vm->pol.inflations,
				(unsigned long long)vm->pol.deflations,
				(unsigned long long)vm->pol.stalls,
				(unsigned long long)vm->pol.guest_dropped,
				vm->pol.target_pages / PAGES_PER_MIB, vm->balloon,
				vm->det.reported[0], vm->det.reported[1],
				vm->det.reported[2]);
		moved += vm->moved_in;
		lost += vm->lost;
		if (pk == POL_KAB) {
			infl += vm->pol.inflations;
			defl += vm->pol.deflations;
			stalls += vm->pol.stalls;
		}
		moved_time += vm->moved_in_time;
		if (!vm->has_job)
			continue;
		jobs++;
		done += vm->job.finished;
		rt_sum += vm->job.runtime_sum;
		rt_max = fmax(rt_max, vm->job.runtime_max);
		if (strlen(runtimes) < sizeof(runtimes) - 16)
			snprintf(runtimes + strlen(runtimes),
				 sizeof(runtimes) - strlen(runtimes), "%s%.1f",
				 *runtimes ? "," : "",
				 vm->job.finished ? vm->job.runtime_sum /
						    vm->job.finished : -1.0);
	}
	if (!*runtimes)
		strcpy(runtimes, "-");
	printf("%s\t%s\t%d\t%s\t%u\t%.3f\t%.2f\t%.4f\t%lu\t%.0f\t%.0f\t%.0f\t"
	       "%.4f\t%.1f\t%lu\t%u\t%.1f\t%.1f\t%s\t%lu\t%lu\t%lu\t%.2f\t"
	       "%.0f\t%.0f\t%.3f\t%.2f\t%llu\t%llu\t%llu\t%.0f\n",
	       sc->name, policy_names[pk], fpr,
	       detector_names[det], nr, t / 3600,
	       s.m.reclaimed / 1024 / 3600, 100.0 * s.m.unmet / (nr * t),
	       s.m.ooms, s.m.pswpout * PAGES_PER_MIB,
	       s.m.pswpin * PAGES_PER_MIB, s.m.swap_peak,
	       100.0 * lost / (nr * t), s.m.churn / 1024,
	       s.m.dir_changes, done, done ? rt_sum / done : 0, rt_max,
	       runtimes, rings[0], rings[1], rings[2],
	       moved_time > 0 ? moved / moved_time : 0,
	       (s.m.min_out + s.m.min_cold) * PAGES_PER_MIB, s.m.min_peak,
	       s.m.host_short / 1024 / 3600, s.m.host_idle / 1024 / 3600,
	       infl, defl, stalls,
	       (s.m.min_rise + s.m.min_cold) * PAGES_PER_MIB);
	if (trace)
		fclose(trace);
	free(s.vms);
	free(ahead);
	free(pols);
	free(ws_ahead);
	free(period);
	free(need);
	return 0;
}

/*
 * The measured loops, apart so that callgrind --toggle-collect=cost_*_events
 * counts them and not the warm-up; the few instructions of the loop itself
 * are counted too.
 */
static noinline void
cost_host_events(struct kab_policy_vm **pols, unsigned int nr,
		 unsigned int iters, unsigned long long now)
{
	unsigned int k;

	for (k = 0; k < iters; k++) {
		now += NSEC / 2;
		kab_policy_host_event(&params, NULL, pols, nr, 1 + k % 3, now);
	}
}

static noinline void
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
 * Cost mode: N VMs with varied limits, levels, histories and figures, then
 * @iters events of one kind, in cost_host_events() or cost_guest_events(), set up
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
	params.stats_stale_ms = 0;
	for (i = 0; i < nr; i++) {
		vm[i].total_pages = 1 << 20;
		vm[i].floor_pages = 1 << 16;
		vm[i].ceiling_pages = 1 << 20;
		vm[i].weight = 1 + i % 100;
		if (kab_policy_vm_init(&params, &vm[i], now))
			return 1;
		pols[i] = &vm[i];
		/*
		 * Three VMs in four report figures that never run out in the
		 * run, the fourth none: every round of the split runs.
		 */
		if (i % 4 == 3)
			continue;
		vm[i].guest.valid = KAB_GUEST_STAT_ALL;
		vm[i].guest.available_pages = 3 << 18;
		vm[i].guest.free_pages = 1 << 19;
		vm[i].guest.cache_pages = 1 << 18;
		vm[i].guest.total_pages = 1 << 20;
		vm[i].guest.committed_pages = 1 << 18;
		vm[i].guest.reported_ns = now;
		kab_policy_guest_stats(&params, &vm[i], now);
	}
	/* Warm up: every VM has seen some of everything. */
	for (k = 0; k < 20; k++) {
		now += NSEC + (unsigned long long)(rng_uniform(&r) * NSEC);
		kab_policy_host_event(&params, NULL, pols, nr, 1 + k % 3, now);
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

	fprintf(stderr,
		"Usage: kab_sim -s SCENARIO -p POLICY [-r] [-F] [-d driver|reclaim|early] [-S SEED] [-t TRACE] [-o TUNABLE=VALUE]... [-m NAME=VALUE]...\n");
	fprintf(stderr, "       kab_sim -H | -l | -C\n");
	fprintf(stderr, "       kab_sim -c N -k host|guest [-i ITER]\n");
	fprintf(stderr, "scenarios:");
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
	enum detector_kind det = DET_DRIVER;
	unsigned long long seed = 1;
	unsigned int cost_nr = 0, iters = 100, i;
	bool fpr = false;
	int opt, pk = -1;

	while ((opt = getopt(argc, argv, "s:p:S:t:Hc:k:i:lo:rd:m:CF")) != -1) {
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
		case 'm':
			if (nr_model_overrides == MAX_OVERRIDES)
				usage();
			model_overrides[nr_model_overrides++] = optarg;
			break;
		case 'r':
			fpr = true;
			break;
		case 'F':
			withhold_figures = true;
			break;
		case 'C':
			printf("guest_cold\t%g\nbase_cold\t%g\ntouch_ms\t%g\n"
			       "io_ms\t%g\nfault_ms\t%g\npage_ms\t%.1f\n"
			       "kern\t%g\nkern_host\t%g\nram\t%g\n"
			       "base\t%g\ninflate_rate\t%g\n"
			       "deflate_rate\t%g\n",
			       RFC_GUEST_COLD, RFC_BASE_COLD, RFC_TOUCH_MS,
			       RFC_IO_MS,
			       RFC_FAULT_MS, 1000.0 / 22, RFC_KERN,
			       RFC_KERN_HOST, RFC_RAM,
			       RFC_BASE, RFC_INFLATE_RATE, RFC_DEFLATE_RATE);
			return 0;
		case 'd':
			if (!strcmp(optarg, "driver"))
				det = DET_DRIVER;
			else if (!strcmp(optarg, "reclaim"))
				det = DET_RECLAIM;
			else if (!strcmp(optarg, "early"))
				det = DET_EARLY;
			else
				usage();
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
			return run(&scenarios[i], pk, det, fpr, seed, trace);
	usage();
	return 2;
}
