// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_autoballoon: per-VM registrations and the eventfds they hold.
 *
 * Life of a VM
 * ------------
 * KAB_CREATE_VM validates the whole request, takes a reference on every file
 * it names (target eventfd, guest-pressure eventfds, KVM VM file), builds the
 * kab_vm, its sysfs directory and its anon-inode file, and only then installs
 * the new fd: an error at any step unwinds the earlier ones in reverse order,
 * and nothing is visible to anyone before the fd is installed.
 *
 * The per-VM file owns the kab_vm. Its release (the last close, including
 * the VMM being killed) unlinks the VM from kab_vms under kab_vms_lock,
 * unbinds every guest-pressure eventfd, waits for the VM's work items,
 * drops the target eventfd and the KVM VM file, removes the sysfs
 * directory, lets the host pressure sources forget the VM (source.c: its
 * memcg and PSI trigger) and puts the kobject, whose release frees the
 * memory. The anon-inode file holds a reference on this module, so the
 * module cannot go away while a VM exists.
 *
 * Guest-pressure eventfds
 * -----------------------
 * Each bound eventfd has a kab_pressure_bind with an entry on the eventfd's
 * wait queue, added once with vfs_poll(). The wake-up callback runs with the
 * eventfd's wait-queue lock held and interrupts off, possibly in a guest
 * storm, so it does only three things: consume the eventfd counter (so the
 * eventfd does not stay readable), add it to bind->pending, and queue the
 * VM's event_work, a delayed work that runs at most once per
 * min(guest_hint_interval_ms, KAB_EVENT_SPACING_MS): the rate limit comes
 * before the queueing, so a guest that rings its doorbell as fast as it
 * can costs the host one short work item per spacing, whatever the rate,
 * and the counts that came meanwhile go to the policy (whose token bucket
 * then drops what is over the limit) in one run, under the VM's own lock.
 *
 * EPOLLHUP means the eventfd file is being released. The callback then
 * deactivates the bind: under vm->bind_lock it clears bind->active and
 * queues bind->shutdown, which removes the wait entry and drops the eventfd
 * reference in process context. VM release deactivates every bind the same
 * way and flushes each shutdown, so whoever comes first tears the bind down
 * and the other finds it already inactive: the shutdown runs exactly once.
 * Lock order: eventfd wait-queue lock -> vm->bind_lock; nothing takes them
 * the other way round.
 *
 * Guest figures
 * -------------
 * KAB_VM_SET_GUEST_STATS checks the whole update, then replaces vm->guest
 * under vm->guest_lock, a spinlock of this VM alone, and queues the VM's
 * stats_work, a delayed work that runs at most once per
 * KAB_STATS_SPACING_MS: no allocation, no global lock, and the spacing
 * comes before the queueing, as for event_work, so a VMM that calls it in
 * a storm spends its own CPU time and costs the host one short work item
 * per spacing; the updates of the meantime coalesce, the last one wins.
 * stats_work hands the figures to the policy
 * (kab_policy_guest_stats(): a guest under its reserve gets memory back at
 * once) under the VM's lock and publishes a new target like any other
 * decision. Every decision sees the figures through
 * kab_vm_guest_to_policy(), which every caller of the policy runs first.
 * VM release cancels stats_work before signal_work, which it may queue.
 *
 * The target eventfd
 * ------------------
 * A new target is announced by signal_work, never from a wait-queue callback
 * (eventfd_signal() from inside another eventfd's wake-up warns and drops
 * the signal) and never under a lock of ours. The VMM reads the target
 * with KAB_VM_GET_TARGET, which takes only vm->target_lock; the sequence
 * number tells it whether it is new.
 *
 * Locking
 * -------
 * This file owns the VM list, its count and limits, the policy parameters
 * and the tick. kab_vms_lock, a rw_semaphore, guards them and every
 * decision that spans VMs: a host event splits one pool among many VMs,
 * so it holds kab_vms_lock for writing, and with it every VM's policy
 * state. Whatever concerns one VM (its ioctls, its work items, the tick's
 * visit, its sysfs files) holds kab_vms_lock for reading and the VM's own
 * vm->lock, so VMs do not wait for each other: a guest storming its
 * doorbell delays its own VM only; host events, registration and release
 * and tunable writes wait for all. Nothing allocates under either lock,
 * and neither is taken in a wake-up callback.
 * Lock order: kab_vms_lock, vm->lock, then vm->guest_lock or
 * vm->target_lock.
 */

#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/ktime.h>
#include <linux/kvm_host.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "kab.h"
#include "kab_trace.h"

/*
 * The event work of a VM runs at most once per this many milliseconds, or
 * per guest_hint_interval_ms when that is shorter (0: no spacing). At
 * 100 runs a second a doorbell storm costs a fraction of a percent of
 * one CPU, and a hint is looked at no later than this after it came.
 */
#define KAB_EVENT_SPACING_MS	10

/*
 * The stats work of a VM runs at most once per this many milliseconds: a
 * VMM asks its guest for figures about once a second, and one calling
 * KAB_VM_SET_GUEST_STATS in a loop gets its figures to the policy this
 * late at most, for a fraction of a percent of one CPU.
 */
#define KAB_STATS_SPACING_MS	10

static DEFINE_IDA(kab_vm_ida);

/* See "Locking" above. */
static DECLARE_RWSEM(kab_vms_lock);
static LIST_HEAD(kab_vms);
static unsigned int kab_nr_vms;

/* The policy's tunables, sysfs policy/. Written under kab_vms_lock. */
static struct kab_policy_params kab_params;

/* Period of the tick in milliseconds (sysfs tick_ms). */
static unsigned int kab_tick_ms = KAB_DEFAULT_TICK_MS;

/* Most VMs that may register (sysfs max_vms). Under kab_vms_lock. */
static unsigned int kab_max_vms = KAB_DEFAULT_MAX_VMS;

/*
 * Most VMs one user (euid) without CAP_SYS_ADMIN may have registered
 * (sysfs max_vms_per_user), so that one holder of the device cannot take
 * every slot of max_vms. Under kab_vms_lock.
 */
static unsigned int kab_max_vms_per_user = KAB_DEFAULT_MAX_VMS_PER_USER;

/*
 * The policy takes a host event's VMs as an array. kab_host_report() runs
 * when the host is short of memory and must not allocate, so the array is
 * allocated whenever max_vms grows, with one slot per VM that may
 * register, and never shrinks: kab_nr_vms <= kab_max_vms <=
 * kab_scratch_len. Under kab_vms_lock, for writing.
 */
static struct kab_policy_vm **kab_scratch;
static unsigned int kab_scratch_len;

/* ---- guest-pressure eventfds ---- */

static void kab_bind_shutdown(struct work_struct *work)
{
	struct kab_pressure_bind *bind =
		container_of(work, struct kab_pressure_bind, shutdown);
	u64 cnt;

	eventfd_ctx_remove_wait_queue(bind->ctx, &bind->wait, &cnt);
	eventfd_ctx_put(bind->ctx);
	bind->ctx = NULL;
}

/* Called with the eventfd's wait-queue lock held, or from VM release. */
static void kab_bind_deactivate(struct kab_pressure_bind *bind)
{
	struct kab_vm *vm = bind->vm;
	unsigned long flags;

	spin_lock_irqsave(&vm->bind_lock, flags);
	if (bind->active) {
		bind->active = false;
		kab_queue_work(&bind->shutdown);
	}
	spin_unlock_irqrestore(&vm->bind_lock, flags);
}

/*
 * Queue the VM's event work, no earlier than vm->event_next: lockless, and
 * while it is pending (the whole of a storm) a test_and_set_bit that fails.
 */
static void kab_vm_event_kick(struct kab_vm *vm)
{
	unsigned long next = READ_ONCE(vm->event_next), now = jiffies;

	kab_queue_delayed_work(&vm->event_work,
			       time_before(now, next) ? next - now : 0);
}

static int kab_bind_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			   int sync, void *key)
{
	struct kab_pressure_bind *bind =
		container_of(wait, struct kab_pressure_bind, wait);
	__poll_t flags = key_to_poll(key);
	u64 cnt;

	if (flags & EPOLLIN) {
		eventfd_ctx_do_read(bind->ctx, &cnt);
		if (cnt) {
			atomic64_add(cnt, &bind->pending);
			kab_vm_event_kick(bind->vm);
		}
	}
	if (flags & EPOLLHUP)
		kab_bind_deactivate(bind);
	return 0;
}

static void kab_bind_queue_proc(struct file *file, wait_queue_head_t *wqh,
				poll_table *pt)
{
	struct kab_pressure_bind *bind =
		container_of(pt, struct kab_pressure_bind, pt);

	add_wait_queue(wqh, &bind->wait);
}

/*
 * Start listening. A count the eventfd already holds (written before the
 * registration) is folded into the next signal: only the wake-up callback
 * may consume the counter, since that needs the wait-queue lock.
 */
static void kab_bind_start(struct kab_pressure_bind *bind, struct file *file)
{
	init_waitqueue_func_entry(&bind->wait, kab_bind_wakeup);
	init_poll_funcptr(&bind->pt, kab_bind_queue_proc);
	bind->active = true;
	vfs_poll(file, &bind->pt);
}

/* ---- work items ---- */

static void kab_vm_signal_work(struct work_struct *work)
{
	struct kab_vm *vm = container_of(work, struct kab_vm, signal_work);

	kab_eventfd_signal(vm->target_ctx);
}

/* The VM's policy state: its own lock, or every VM's (a host event). */
static void kab_vm_assert_locked(struct kab_vm *vm)
{
	lockdep_assert(lockdep_is_held(&vm->lock) ||
		       lockdep_is_held_type(&kab_vms_lock, 0));
}

/*
 * Tell the VMM about a new target, if the policy made one. Called after
 * every policy call, with the VM's state locked.
 */
static void kab_vm_publish(struct kab_vm *vm)
{
	kab_vm_assert_locked(vm);

	if (vm->pol.seq == vm->published_seq)
		return;
	trace_kab_decision(vm->id, vm->published_target, vm->pol.target_pages,
			   vm->pol.seq, vm->pol.reason);
	spin_lock(&vm->target_lock);
	vm->published_seq = vm->pol.seq;
	vm->published_target = vm->pol.target_pages;
	vm->published_reason = vm->pol.reason;
	spin_unlock(&vm->target_lock);
	kab_queue_work(&vm->signal_work);
}

/* Before a policy call, with the VM's state locked: its latest figures. */
static void kab_vm_guest_to_policy(struct kab_vm *vm)
{
	kab_vm_assert_locked(vm);

	spin_lock(&vm->guest_lock);
	vm->pol.guest = vm->guest;
	spin_unlock(&vm->guest_lock);
}

/* A consistent copy of the guest's figures, for sysfs. */
void kab_vm_guest_figures(struct kab_vm *vm, struct kab_policy_guest *out)
{
	spin_lock(&vm->guest_lock);
	*out = vm->guest;
	spin_unlock(&vm->guest_lock);
}

/* For sysfs: the VM's state, locked as for one of its ioctls. */
void kab_vm_lock(struct kab_vm *vm)
{
	down_read(&kab_vms_lock);
	mutex_lock(&vm->lock);
}

void kab_vm_unlock(struct kab_vm *vm)
{
	mutex_unlock(&vm->lock);
	up_read(&kab_vms_lock);
}

/* Under kab_vm_lock(): sysfs spare_limit_pages. */
u64 kab_vm_spare_limit(struct kab_vm *vm)
{
	return kab_policy_spare_limit(&kab_params, &vm->pol);
}

/* Under kab_vm_lock(): sysfs reserve_pages. */
u64 kab_vm_reserve(struct kab_vm *vm)
{
	return kab_policy_reserve(&kab_params, &vm->pol);
}

static void kab_vm_event_work(struct work_struct *work)
{
	struct kab_vm *vm = container_of(to_delayed_work(work), struct kab_vm,
					 event_work);
	u64 counts[KAB_NR_LEVELS], spacing;
	unsigned int i;
	u64 now;

	/* The next run comes no sooner than one spacing from now. */
	spacing = min_t(u64, READ_ONCE(kab_params.guest_hint_interval_ms),
			KAB_EVENT_SPACING_MS);
	WRITE_ONCE(vm->event_next, jiffies + msecs_to_jiffies(spacing));
	for (i = 0; i < KAB_NR_LEVELS; i++)
		counts[i] = atomic64_xchg(&vm->binds[i].pending, 0);

	kab_vm_lock(vm);
	now = ktime_get_ns();
	kab_vm_guest_to_policy(vm);
	for (i = 0; i < KAB_NR_LEVELS; i++) {
		if (!counts[i])
			continue;
		vm->guest_events[i] += counts[i];
		trace_kab_guest_pressure(vm->id, i + 1, counts[i]);
		kab_policy_guest_event(&kab_params, &vm->pol, i + 1, counts[i],
				       now);
		kab_vm_publish(vm);
	}
	kab_vm_unlock(vm);
}

/* New guest figures: the policy reads them at once. */
static void kab_vm_stats_work(struct work_struct *work)
{
	struct kab_vm *vm = container_of(to_delayed_work(work), struct kab_vm,
					 stats_work);

	/* The next run comes no sooner than one spacing from now. */
	WRITE_ONCE(vm->stats_next,
		   jiffies + msecs_to_jiffies(KAB_STATS_SPACING_MS));
	kab_vm_lock(vm);
	kab_vm_guest_to_policy(vm);
	kab_policy_guest_stats(&kab_params, &vm->pol, ktime_get_ns());
	kab_vm_publish(vm);
	kab_vm_unlock(vm);
}

/*
 * The host's memory as the policy weighs it: RAM, and what it can still
 * allocate without swapping.
 */
void kab_host_measure(struct kab_policy_host *host)
{
	long avail = si_mem_available();

	host->total_pages = (u64)totalram_pages() * (PAGE_SIZE / KAB_PAGE_SIZE);
	host->available_pages = avail > 0 ?
		(u64)avail * (PAGE_SIZE / KAB_PAGE_SIZE) : 0;
}

/* ---- the periodic tick: stall detection, relaxing, headroom ---- */

/*
 * The host's headroom (see kab_policy_headroom()): a decision that spans
 * the VMs, so under the list's lock for writing, as a host event. The tick
 * calls it only when kab_policy_headroom_due(), tested under its read lock.
 */
static void kab_vms_headroom(const struct kab_policy_host *host)
{
	struct kab_policy_vm **pols;
	unsigned int nr = 0, i;
	struct kab_vm *vm;
	u64 now;

	down_write(&kab_vms_lock);
	pols = kab_scratch;
	list_for_each_entry(vm, &kab_vms, node) {
		kab_vm_guest_to_policy(vm);
		pols[nr++] = &vm->pol;
	}
	now = ktime_get_ns();
	if (nr && kab_policy_headroom(&kab_params, host, pols, nr, now))
		for (i = 0; i < nr; i++)
			kab_vm_publish(container_of(pols[i], struct kab_vm,
						    pol));
	up_write(&kab_vms_lock);
}

static void kab_tick_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(kab_tick_work, kab_tick_fn);

static void kab_tick_fn(struct work_struct *work)
{
	struct kab_policy_host host;
	struct kab_vm *vm;
	bool more, headroom;
	u64 now;

	kab_host_measure(&host);
	/* One VM at a time; only the headroom, after, spans VMs. */
	down_read(&kab_vms_lock);
	now = ktime_get_ns();
	list_for_each_entry(vm, &kab_vms, node) {
		mutex_lock(&vm->lock);
		kab_vm_guest_to_policy(vm);
		kab_policy_tick(&kab_params, &host, &vm->pol, now);
		kab_vm_publish(vm);
		mutex_unlock(&vm->lock);
	}
	more = !list_empty(&kab_vms);
	headroom = more && kab_policy_headroom_due(&kab_params, &host);
	up_read(&kab_vms_lock);

	if (headroom)
		kab_vms_headroom(&host);
	if (more)
		kab_queue_delayed_work(&kab_tick_work,
				       msecs_to_jiffies(READ_ONCE(kab_tick_ms)));
}

static void kab_tick_start(void)
{
	kab_queue_delayed_work(&kab_tick_work,
			       msecs_to_jiffies(READ_ONCE(kab_tick_ms)));
}

unsigned int kab_tick_period_ms(void)
{
	return READ_ONCE(kab_tick_ms);
}

/* The next tick comes at the old period; the ones after it at @ms. */
void kab_tick_set_period_ms(unsigned int ms)
{
	WRITE_ONCE(kab_tick_ms, ms);
}

/* ---- the VM list: host events, limits, tunables ---- */

/**
 * kab_vms_host_event - hand host pressure to the VMs it concerns
 * @host:	the host's memory, or zeros (not measured).
 * @level:	KAB_LEVEL_LOW..KAB_LEVEL_CRITICAL.
 * @source:	enum kab_source, for the VMs' counters.
 * @match:	picks the VMs concerned; called under kab_vms_lock.
 * @arg:	for @match.
 * @one:	stop at the first VM @match picks (an event for one VM).
 *
 * Allocates nothing: it runs when the host is short of memory.
 * Return: how many VMs the event concerned.
 */
unsigned int kab_vms_host_event(const struct kab_policy_host *host,
				unsigned int level, unsigned int source,
				bool (*match)(const struct kab_vm *vm,
					      const void *arg),
				const void *arg, bool one)
{
	struct kab_policy_vm **pols;
	unsigned int nr = 0, i;
	struct kab_vm *vm;

	/* The split spans VMs: every VM's state, for writing. */
	down_write(&kab_vms_lock);
	pols = kab_scratch;
	list_for_each_entry(vm, &kab_vms, node) {
		if (!match(vm, arg))
			continue;
		kab_vm_guest_to_policy(vm);
		pols[nr++] = &vm->pol;
		vm->host_events[level - 1]++;
		vm->host_last_level = level;
		vm->host_last_source = source;
		if (one)
			break;
	}
	if (nr) {
		kab_policy_host_event(&kab_params, host, pols, nr, level,
				      ktime_get_ns());
		/* Publishing a VM whose target did not change is a no-op. */
		for (i = 0; i < nr; i++)
			kab_vm_publish(container_of(pols[i], struct kab_vm,
						    pol));
	}
	up_write(&kab_vms_lock);
	return nr;
}

unsigned int kab_vms_count(void)
{
	return READ_ONCE(kab_nr_vms);
}

/* The value of one tunable of policy/, @t from kab_policy_tunables[]. */
u64 kab_vms_param(const struct kab_policy_tunable *t)
{
	u64 val;

	down_read(&kab_vms_lock);
	val = *(u64 *)((char *)&kab_params + t->offset);
	up_read(&kab_vms_lock);
	return val;
}

/* The caller checked @val against @t's range. */
void kab_vms_set_param(const struct kab_policy_tunable *t, u64 val)
{
	down_write(&kab_vms_lock);
	WRITE_ONCE(*(u64 *)((char *)&kab_params + t->offset), val);
	up_write(&kab_vms_lock);
}

unsigned int kab_vms_max(void)
{
	return READ_ONCE(kab_max_vms);
}

/*
 * Set max_vms. Lowering it below the VMs registered only refuses new ones.
 * Returns 0, or -ENOMEM when the scratch array cannot grow (nothing
 * changed then).
 */
int kab_vms_set_max(unsigned int max)
{
	struct kab_policy_vm **new = NULL, **old = NULL;

	if (max > READ_ONCE(kab_scratch_len)) {
		new = kvcalloc(max, sizeof(*new), GFP_KERNEL);
		if (!new)
			return -ENOMEM;
	}
	down_write(&kab_vms_lock);
	if (new && max > kab_scratch_len) {
		old = kab_scratch;
		kab_scratch = new;
		WRITE_ONCE(kab_scratch_len, max);
		new = NULL;
	}
	WRITE_ONCE(kab_max_vms, max);
	up_write(&kab_vms_lock);
	kvfree(new);
	kvfree(old);
	return 0;
}

unsigned int kab_vms_max_per_user(void)
{
	return READ_ONCE(kab_max_vms_per_user);
}

/* Lowering it below what a user has only refuses that user's new VMs. */
void kab_vms_set_max_per_user(unsigned int max)
{
	down_write(&kab_vms_lock);
	WRITE_ONCE(kab_max_vms_per_user, max);
	up_write(&kab_vms_lock);
}

int kab_vms_init(void)
{
	kab_policy_defaults(&kab_params);
	return kab_vms_set_max(KAB_DEFAULT_MAX_VMS);
}

/* Every VM file pins the module: no VM is left. */
void kab_vms_exit(void)
{
	cancel_delayed_work_sync(&kab_tick_work);
	kvfree(kab_scratch);
	kab_scratch = NULL;
	kab_scratch_len = 0;
}

/* ---- the per-VM file ---- */

static int kab_vm_release(struct inode *inode, struct file *file)
{
	struct kab_vm *vm = file->private_data;
	unsigned int i;

	if (!vm)	/* registration failed before the fd was installed */
		return 0;

	down_write(&kab_vms_lock);
	list_del(&vm->node);
	WRITE_ONCE(kab_nr_vms, kab_nr_vms - 1);
	up_write(&kab_vms_lock);

	for (i = 0; i < KAB_NR_LEVELS; i++) {
		if (!vm->binds[i].bound)
			continue;
		kab_bind_deactivate(&vm->binds[i]);
		flush_work(&vm->binds[i].shutdown);
	}
	/* No wake-up can queue event_work now; event_work may queue signal. */
	cancel_delayed_work_sync(&vm->event_work);
	cancel_delayed_work_sync(&vm->stats_work);
	cancel_work_sync(&vm->signal_work);

	eventfd_ctx_put(vm->target_ctx);
	if (vm->kvm_file)
		fput(vm->kvm_file);
	kab_sysfs_del_vm(vm);
	kab_sources_vm_del(vm);
	ida_free(&kab_vm_ida, vm->id);
	kobject_put(&vm->kobj);
	return 0;
}

static long kab_vm_get_target(struct kab_vm *vm, void __user *uarg)
{
	struct kab_target t = {};
	u32 usize;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < KAB_TARGET_SIZE_VER0)
		return -EINVAL;

	/* No other lock: another VM's storm or a host event never delays it. */
	spin_lock(&vm->target_lock);
	t.target_pages = vm->published_target;
	t.seq = vm->published_seq;
	t.reason = vm->published_reason;
	spin_unlock(&vm->target_lock);

	t.size = min_t(u32, usize, sizeof(t));
	if (copy_to_user(uarg, &t, t.size))
		return -EFAULT;
	return 0;
}

static long kab_vm_set_actual(struct kab_vm *vm, void __user *uarg)
{
	struct kab_actual a;
	int ret;

	ret = kab_copy_sized_arg(&a, sizeof(a), uarg, KAB_ACTUAL_SIZE_VER0);
	if (ret)
		return ret;
	if (a.flags)
		return -EINVAL;

	/* total_pages is set at registration and never changes. */
	if (a.actual_pages > vm->pol.total_pages)
		return -ERANGE;
	kab_vm_lock(vm);
	kab_vm_guest_to_policy(vm);
	kab_policy_actual(&kab_params, &vm->pol, a.actual_pages,
			  ktime_get_ns());
	kab_vm_publish(vm);
	kab_vm_unlock(vm);
	return 0;
}

/*
 * The guest's state came from elsewhere (migration, loadvm) or from a
 * reset. Both forget the guest; only a restore moves the target, and only
 * within the VM's limits: a VMM can restore what it could have been told,
 * nothing more.
 */
static long kab_vm_restore(struct kab_vm *vm, void __user *uarg)
{
	struct kab_restore r;
	unsigned int i;
	u64 lo, hi;
	int ret;

	ret = kab_copy_sized_arg(&r, sizeof(r), uarg, KAB_RESTORE_SIZE_VER0);
	if (ret)
		return ret;
	if (r.flags & ~KAB_RESTORE_FLAGS)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(r.reserved); i++)
		if (r.reserved[i])
			return -EINVAL;
	if (r.flags & KAB_RESTORE_RESET) {
		if (r.target_pages || r.actual_pages)
			return -EINVAL;
	} else {
		/* The limits are set at registration and never change. */
		lo = vm->pol.total_pages - vm->pol.ceiling_pages;
		hi = vm->pol.total_pages - vm->pol.floor_pages;
		if (r.target_pages < lo || r.target_pages > hi ||
		    r.actual_pages > vm->pol.total_pages)
			return -ERANGE;
	}

	kab_vm_lock(vm);
	/* What the guest reported before is the old guest's. */
	spin_lock(&vm->guest_lock);
	vm->guest = (struct kab_policy_guest){
		.reported_ns = KAB_POLICY_NEVER,
		.updates = vm->guest.updates,
	};
	spin_unlock(&vm->guest_lock);
	if (r.flags & KAB_RESTORE_RESET)
		kab_policy_reset(&kab_params, &vm->pol, ktime_get_ns());
	else
		kab_policy_restore(&kab_params, &vm->pol, r.target_pages,
				   r.actual_pages, ktime_get_ns());
	kab_vm_publish(vm);
	kab_vm_unlock(vm);
	return 0;
}

static long kab_vm_get_stats(struct kab_vm *vm, void __user *uarg)
{
	struct kab_vm_stats s = {};
	unsigned int i;
	u32 usize;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < KAB_VM_STATS_SIZE_VER0)
		return -EINVAL;

	kab_vm_lock(vm);
	s.vm_id = vm->id;
	s.total_pages = vm->pol.total_pages;
	s.floor_pages = vm->pol.floor_pages;
	s.ceiling_pages = vm->pol.ceiling_pages;
	s.target_pages = vm->pol.target_pages;
	s.actual_pages = vm->pol.actual_pages;
	s.target_seq = vm->pol.seq;
	for (i = 0; i < KAB_NR_LEVELS; i++) {
		s.guest_events[i] = vm->guest_events[i];
		s.host_events[i] = vm->host_events[i];
	}
	s.guest_events_dropped = vm->pol.guest_dropped;
	s.inflations = vm->pol.inflations;
	s.deflations = vm->pol.deflations;
	s.stalls = vm->pol.stalls;
	s.weight = vm->pol.weight;
	s.last_reason = vm->pol.reason;
	kab_vm_unlock(vm);

	s.size = min_t(u32, usize, sizeof(s));
	if (copy_to_user(uarg, &s, s.size))
		return -EFAULT;
	return 0;
}

/*
 * Check one update completely. The VM's registered total bounds every
 * figure but the committed one (a guest may overcommit), and the guest's
 * own total, when given, bounds what it calls available, free and cache.
 */
static int kab_check_guest_stats(const struct kab_guest_stats *gs,
				 u64 vm_total)
{
	u64 bound = vm_total;
	unsigned int i;

	if (gs->flags)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(gs->reserved); i++)
		if (gs->reserved[i])
			return -EINVAL;
	if (!gs->valid || (gs->valid & ~KAB_GUEST_STAT_ALL))
		return -EINVAL;
	/* A figure the update does not carry must be 0, as reserved bytes. */
	if ((!(gs->valid & KAB_GUEST_STAT_AVAILABLE) && gs->available_pages) ||
	    (!(gs->valid & KAB_GUEST_STAT_FREE) && gs->free_pages) ||
	    (!(gs->valid & KAB_GUEST_STAT_CACHE) && gs->cache_pages) ||
	    (!(gs->valid & KAB_GUEST_STAT_TOTAL) && gs->total_pages) ||
	    (!(gs->valid & KAB_GUEST_STAT_COMMITTED) && gs->committed_pages))
		return -EINVAL;
	if (gs->valid & KAB_GUEST_STAT_TOTAL) {
		if (gs->total_pages > vm_total)
			return -ERANGE;
		bound = gs->total_pages;
	}
	if ((gs->valid & KAB_GUEST_STAT_AVAILABLE) &&
	    gs->available_pages > bound)
		return -ERANGE;
	if ((gs->valid & KAB_GUEST_STAT_FREE) && gs->free_pages > bound)
		return -ERANGE;
	if ((gs->valid & KAB_GUEST_STAT_CACHE) && gs->cache_pages > bound)
		return -ERANGE;
	if ((gs->valid & KAB_GUEST_STAT_COMMITTED) &&
	    gs->committed_pages > KAB_MAX_PAGES)
		return -ERANGE;
	return 0;
}

/* Queue the VM's stats work no earlier than vm->stats_next, lockless. */
static void kab_vm_stats_kick(struct kab_vm *vm)
{
	unsigned long next = READ_ONCE(vm->stats_next), now = jiffies;

	kab_queue_delayed_work(&vm->stats_work,
			       time_before(now, next) ? next - now : 0);
}

static long kab_vm_set_guest_stats(struct kab_vm *vm, void __user *uarg)
{
	struct kab_policy_guest g;
	struct kab_guest_stats gs;
	int ret;

	ret = kab_copy_sized_arg(&gs, sizeof(gs), uarg,
				 KAB_GUEST_STATS_SIZE_VER0);
	if (ret)
		return ret;
	/* total_pages is set at registration and never changes. */
	ret = kab_check_guest_stats(&gs, vm->pol.total_pages);
	if (ret)
		return ret;

	g.valid = gs.valid;
	g.available_pages = gs.available_pages;
	g.free_pages = gs.free_pages;
	g.cache_pages = gs.cache_pages;
	g.total_pages = gs.total_pages;
	g.committed_pages = gs.committed_pages;
	g.reported_ns = ktime_get_ns();

	spin_lock(&vm->guest_lock);
	g.updates = vm->guest.updates + 1;
	vm->guest = g;
	spin_unlock(&vm->guest_lock);
	kab_vm_stats_kick(vm);
	return 0;
}

/*
 * The numbers are matched whole: a version 1 number, which carried the
 * argument's size and direction, is unknown (-ENOTTY) like any other.
 */
static long kab_vm_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct kab_vm *vm = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case KAB_VM_GET_TARGET:
		return kab_vm_get_target(vm, uarg);
	case KAB_VM_SET_ACTUAL:
		return kab_vm_set_actual(vm, uarg);
	case KAB_VM_GET_STATS:
		return kab_vm_get_stats(vm, uarg);
	case KAB_VM_SET_GUEST_STATS:
		return kab_vm_set_guest_stats(vm, uarg);
	case KAB_VM_RESTORE:
		return kab_vm_restore(vm, uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations kab_vm_fops = {
	.owner		= THIS_MODULE,
	.release	= kab_vm_release,
	.unlocked_ioctl	= kab_vm_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/* ---- registration ---- */

static int kab_check_limits(const struct kab_create_vm *req)
{
	unsigned int i;

	if (req->flags || req->reserved32)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(req->reserved); i++)
		if (req->reserved[i])
			return -EINVAL;
	if (!req->total_pages || !req->floor_pages || !req->ceiling_pages)
		return -EINVAL;
	if (req->total_pages > KAB_MAX_PAGES ||
	    req->ceiling_pages > KAB_MAX_PAGES ||
	    req->floor_pages > KAB_MAX_PAGES)
		return -ERANGE;
	if (req->floor_pages > req->ceiling_pages)
		return -EINVAL;
	if (req->ceiling_pages > req->total_pages)
		return -ERANGE;
	if (!req->weight || req->weight > KAB_MAX_WEIGHT)
		return -EINVAL;
	return 0;
}

/* An optional fd is KAB_NO_FD; any other negative value is not an fd. */
static int kab_check_fd(s32 fd, bool optional)
{
	if (fd == KAB_NO_FD && optional)
		return 0;
	if (fd < 0)
		return -EBADF;
	return 1;
}

/*
 * Ask KVM itself whether @file is one of its VMs. symbol_get() keeps this
 * module free of a load-time dependency on kvm.ko: when KVM is not loaded,
 * no KVM VM file can exist.
 */
static bool kab_file_is_kvm_vm(struct file *file)
{
	bool (*is_kvm)(struct file *file);
	bool ret;

	is_kvm = symbol_get(file_is_kvm);
	if (!is_kvm)
		return false;
	ret = is_kvm(file);
	symbol_put(file_is_kvm);
	return ret;
}

/*
 * The guest memory of a KVM VM: the pages of its userspace slots in
 * address space 0 (SMM's view maps the same memory again), in 4 KiB pages.
 */
static u64 kab_kvm_memory_pages(struct file *kvm_file)
{
	struct kvm *kvm = kvm_file->private_data;
	struct kvm_memory_slot *slot;
	u64 pages = 0;
	int bkt;

	mutex_lock(&kvm->slots_lock);
	kvm_for_each_memslot(slot, bkt, kvm_memslots(kvm))
		if (slot->id < KVM_USER_MEM_SLOTS)
			pages += slot->npages;
	mutex_unlock(&kvm->slots_lock);
	return pages * (PAGE_SIZE / KAB_PAGE_SIZE);
}

static int kab_get_kvm_file(s32 fd, struct file **out)
{
	struct file *file;

	*out = NULL;
	if (fd == KAB_NO_FD)
		return 0;
	if (fd < 0)
		return -EBADF;
	file = fget(fd);
	if (!file)
		return -EBADF;
	if (!kab_file_is_kvm_vm(file)) {
		fput(file);
		return -EINVAL;
	}
	*out = file;
	return 0;
}

/*
 * Under kab_vms_lock: may one more VM, @new with this KVM VM file, register?
 * Registration is rare: a walk of the list costs less than keeping counts
 * per user.
 */
static int kab_may_register(const struct kab_vm *new, struct file *kvm_file)
{
	unsigned int mine = 0;
	struct kab_vm *vm;

	lockdep_assert_held_write(&kab_vms_lock);
	list_for_each_entry(vm, &kab_vms, node) {
		if (kvm_file && vm->kvm_file == kvm_file)
			return -EEXIST;
		if (!vm->privileged && uid_eq(vm->owner_uid, new->owner_uid))
			mine++;
	}
	if (!new->privileged && mine >= kab_max_vms_per_user)
		return -EDQUOT;
	if (kab_nr_vms >= kab_max_vms)
		return -ENOSPC;
	return 0;
}

/*
 * What a caller without CAP_SYS_ADMIN may not ask for: a VM that is not a
 * KVM VM (nothing would bound its size), or a weight above the default
 * (a larger share of every host event than the VMs of other users).
 */
static int kab_check_privilege(const struct kab_create_vm *req)
{
	if (req->kvm_vm_fd != KAB_NO_FD && req->weight <= KAB_DEFAULT_WEIGHT)
		return 0;
	return capable(CAP_SYS_ADMIN) ? 0 : -EPERM;
}

/* Take a reference on one eventfd; @taken lists those taken before. */
static int kab_get_eventfd(s32 fd, bool optional, struct eventfd_ctx **out,
			   struct file **filep, struct eventfd_ctx **taken,
			   unsigned int nr_taken)
{
	struct eventfd_ctx *ctx;
	struct file *file;
	unsigned int i;
	int ret;

	*out = NULL;
	*filep = NULL;
	ret = kab_check_fd(fd, optional);
	if (ret <= 0)
		return ret;
	file = fget(fd);
	if (!file)
		return -EBADF;
	ctx = eventfd_ctx_fileget(file);
	if (IS_ERR(ctx)) {
		fput(file);
		return PTR_ERR(ctx);
	}
	for (i = 0; i < nr_taken; i++) {
		if (taken[i] == ctx) {
			eventfd_ctx_put(ctx);
			fput(file);
			return -EEXIST;
		}
	}
	*out = ctx;
	*filep = file;
	return 0;
}

static struct kab_vm *kab_vm_alloc(const struct kab_create_vm *req)
{
	struct kab_vm *vm;
	unsigned int i;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return NULL;
	INIT_LIST_HEAD(&vm->node);
	mutex_init(&vm->lock);
	spin_lock_init(&vm->target_lock);
	spin_lock_init(&vm->bind_lock);
	spin_lock_init(&vm->guest_lock);
	vm->guest.reported_ns = KAB_POLICY_NEVER;
	vm->event_next = jiffies;
	vm->stats_next = jiffies;
	INIT_DELAYED_WORK(&vm->event_work, kab_vm_event_work);
	INIT_DELAYED_WORK(&vm->stats_work, kab_vm_stats_work);
	INIT_WORK(&vm->signal_work, kab_vm_signal_work);
	for (i = 0; i < KAB_NR_LEVELS; i++) {
		vm->binds[i].vm = vm;
		vm->binds[i].level = i + 1;
		atomic64_set(&vm->binds[i].pending, 0);
		INIT_WORK(&vm->binds[i].shutdown, kab_bind_shutdown);
	}
	vm->pol.total_pages = req->total_pages;
	vm->pol.floor_pages = req->floor_pages;
	vm->pol.ceiling_pages = req->ceiling_pages;
	vm->pol.weight = req->weight;
	vm->owner_pid = task_tgid_nr(current);
	vm->owner_uid = current_euid();
	vm->privileged = ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN);
	kobject_init(&vm->kobj, &kab_vm_ktype);
	return vm;
}

long kab_create_vm(const struct kab_create_vm __user *uarg)
{
	struct eventfd_ctx *ctxs[1 + KAB_NR_LEVELS] = {};
	struct file *efiles[1 + KAB_NR_LEVELS] = {};
	struct file *kvm_file = NULL, *vm_file;
	struct kab_create_vm req;
	struct kab_vm *vm = NULL;
	unsigned int i;
	int ret, fd, id;

	ret = kab_copy_sized_arg(&req, sizeof(req), uarg,
				 KAB_CREATE_VM_SIZE_VER0);
	if (ret)
		return ret;
	ret = kab_check_limits(&req);
	if (ret)
		return ret;
	ret = kab_check_privilege(&req);
	if (ret)
		return ret;

	/* Eventfds: the target first, then one per level. */
	ret = kab_get_eventfd(req.target_fd, false, &ctxs[0], &efiles[0],
			      ctxs, 0);
	for (i = 0; !ret && i < KAB_NR_LEVELS; i++)
		ret = kab_get_eventfd(req.pressure_fd[i], true, &ctxs[i + 1],
				      &efiles[i + 1], ctxs, i + 1);
	if (!ret)
		ret = kab_get_kvm_file(req.kvm_vm_fd, &kvm_file);
	if (ret)
		goto err_put_files;
	/* The size of an unprivileged VMM's VM is that of its memory. */
	if (kvm_file && req.total_pages > kab_kvm_memory_pages(kvm_file) &&
	    !ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN)) {
		ret = -ERANGE;
		goto err_put_files;
	}

	vm = kab_vm_alloc(&req);
	if (!vm) {
		ret = -ENOMEM;
		goto err_put_files;
	}

	id = ida_alloc_min(&kab_vm_ida, 1, GFP_KERNEL);
	if (id < 0) {
		ret = id;
		goto err_free_vm;
	}
	vm->id = id;

	/* The VMM's memcg, the PSI trigger, each source's view of the VM. */
	ret = kab_sources_vm_add(vm, req.psi_fd);
	if (ret)
		goto err_free_id;

	down_read(&kab_vms_lock);
	ret = kab_policy_vm_init(&kab_params, &vm->pol, ktime_get_ns());
	up_read(&kab_vms_lock);
	if (ret)
		goto err_del_sources;
	vm->published_seq = vm->pol.seq;
	vm->published_target = vm->pol.target_pages;
	vm->published_reason = vm->pol.reason;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_del_sources;
	}
	vm_file = anon_inode_getfile("kab-vm", &kab_vm_fops, vm, O_RDWR);
	if (IS_ERR(vm_file)) {
		ret = PTR_ERR(vm_file);
		goto err_put_fd;
	}

	ret = kab_sysfs_add_vm(vm);
	if (ret)
		goto err_put_file;

	down_write(&kab_vms_lock);
	ret = kab_may_register(vm, kvm_file);
	if (ret) {
		up_write(&kab_vms_lock);
		goto err_del_sysfs;
	}
	vm->kvm_file = kvm_file;
	vm->target_ctx = ctxs[0];
	for (i = 0; i < KAB_NR_LEVELS; i++) {
		vm->binds[i].ctx = ctxs[i + 1];
		vm->binds[i].bound = !!ctxs[i + 1];
	}
	list_add_tail(&vm->node, &kab_vms);
	WRITE_ONCE(kab_nr_vms, kab_nr_vms + 1);
	trace_kab_decision(vm->id, 0, vm->pol.target_pages, vm->pol.seq,
			   vm->pol.reason);
	up_write(&kab_vms_lock);

	/* From here on the release of vm_file undoes everything. */
	for (i = 0; i < KAB_NR_LEVELS; i++)
		if (vm->binds[i].bound)
			kab_bind_start(&vm->binds[i], efiles[i + 1]);
	for (i = 0; i < ARRAY_SIZE(efiles); i++)
		if (efiles[i])
			fput(efiles[i]);
	kab_sources_vm_start(vm);
	kab_tick_start();
	/* The VMM learns the initial target like any other. */
	kab_queue_work(&vm->signal_work);
	fd_install(fd, vm_file);
	return fd;

err_del_sysfs:
	kab_sysfs_del_vm(vm);
err_put_file:
	/* kab_vm_release must not run for a half-built VM. */
	vm_file->private_data = NULL;
	fput(vm_file);
err_put_fd:
	put_unused_fd(fd);
err_del_sources:
	kab_sources_vm_del(vm);
err_free_id:
	ida_free(&kab_vm_ida, vm->id);
err_free_vm:
	kobject_put(&vm->kobj);
err_put_files:
	if (kvm_file)
		fput(kvm_file);
	for (i = 0; i < ARRAY_SIZE(ctxs); i++) {
		if (ctxs[i])
			eventfd_ctx_put(ctxs[i]);
		if (efiles[i])
			fput(efiles[i]);
	}
	return ret;
}
