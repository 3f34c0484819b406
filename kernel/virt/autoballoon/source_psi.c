// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_autoballoon host pressure source: PSI triggers.
 *
 * The kernel offers no way for a module to create a PSI trigger (the
 * trigger is made by a write to the pressure file, and is owned by that open
 * file), so userspace creates it: it opens /proc/pressure/memory (host wide)
 * or a cgroup's memory.pressure, writes the trigger ("some 150000 1000000")
 * and hands the fd over, either per VM at KAB_CREATE_VM (psi_fd: the event
 * is pressure on that VM) or host wide with KAB_BIND_HOST_PSI on
 * /dev/kvm_autoballoon (the event is global pressure). Only memory pressure
 * files are accepted, and only with a trigger written.
 *
 * Life of a binding
 * -----------------
 * A kab_psi_bind holds a reference on the trigger's file while bound, and
 * one entry on the wait queue the trigger's poll method names (the
 * trigger's own queue for /proc, the kernfs file's queue for a cgroup;
 * both live as long as the file is open). It is owned by its VM (freed at
 * VM release) or by the anon-inode file KAB_BIND_HOST_PSI returned (freed
 * at its last close).
 *
 * The wake-up callback runs with the wait queue's lock held and does
 * nothing but queue the binding's work item. The work item calls
 * vfs_poll(file, NULL), which is what re-arms the trigger: a trigger wakes
 * its waiters only when its event flag goes from clear to set, and only
 * poll clears it, so without this poll no second event would ever come.
 * EPOLLPRI from that poll is an event; EPOLLERR or EPOLLHUP means the
 * trigger is gone (its cgroup was removed), and the work item unbinds: it
 * leaves the wait queue and drops the file. A wake-up with POLLFREE (a
 * queue about to be freed, which these kernels do not use for PSI but
 * epoll's contract allows) takes the entry off the queue in the callback,
 * as epoll does, and the work item then unbinds.
 *
 * bind->lock orders the work item against the owner's teardown, which
 * unbinds under it and then cancels the work item before freeing. Lock
 * order: bind->lock, then (after dropping it) vm.c's kab_vms_lock in
 * kab_host_report().
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/dcache.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>

#include "kab.h"

/* Host-wide bindings that may be open at once. */
#define KAB_PSI_MAX_HOST	16

/*
 * Level of an event of a trigger bound without one (every per-VM trigger,
 * host triggers bound with level 0): 1 low, 2 medium, 3 critical; default
 * medium. A trigger only says that its threshold was crossed.
 */
static unsigned int kab_psi_level = KAB_LEVEL_MEDIUM;

/*
 * Every binding, so that a trigger is bound once: a trigger's event goes
 * to whichever binding polls first, so a second binding would lose events.
 */
static LIST_HEAD(kab_psi_binds);
static DEFINE_MUTEX(kab_psi_binds_lock);

static atomic_t kab_psi_host_files = ATOMIC_INIT(0);
static atomic_t kab_psi_nr_bound[2] = { ATOMIC_INIT(0), ATOMIC_INIT(0) };
static atomic_long_t kab_psi_unbinds = ATOMIC_LONG_INIT(0);

enum kab_psi_state {
	KAB_PSI_BOUND,
	KAB_PSI_UNBOUND,
};

/**
 * struct kab_psi_bind - one PSI trigger fd the module listens to
 * @file:	the trigger's file; reference held while @state is BOUND.
 * @wait:	our entry on the trigger's wait queue.
 * @wqh:	the queue @wait is on, NULL once off it.
 * @pt:		poll table, used once, to add @wait.
 * @work:	polls (re-arms) the trigger and reports the event.
 * @lock:	@file, @state and @started against @work.
 * @scope:	KAB_SCOPE_VM or KAB_SCOPE_GLOBAL.
 * @vm_id:	the VM, for KAB_SCOPE_VM.
 * @level:	level of its events, 0 for kab_psi_level.
 * @state:	BOUND, or UNBOUND once the trigger went away.
 * @started:	events are delivered (the VM is registered).
 * @missed:	an event was consumed while binding.
 * @host:	host-wide binding (else per VM), for the counters.
 * @node:	on kab_psi_binds, under kab_psi_binds_lock.
 */
struct kab_psi_bind {
	struct file *file;
	wait_queue_entry_t wait;
	wait_queue_head_t *wqh;
	poll_table pt;
	struct work_struct work;
	struct mutex lock;		/* see the kernel-doc above */
	enum kab_scope scope;
	u32 vm_id;
	unsigned int level;
	enum kab_psi_state state;
	bool started;
	atomic_t missed;
	bool host;
	struct list_head node;
};

/* ---- wait queue ---- */

static int kab_psi_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			  int sync, void *key)
{
	struct kab_psi_bind *bind =
		container_of(wait, struct kab_psi_bind, wait);

	if (key_to_poll(key) & POLLFREE) {
		/* The queue is freed after an RCU grace period: leave now. */
		list_del_init(&wait->entry);
		/* Pairs with the acquire in kab_psi_leave_queue(). */
		smp_store_release(&bind->wqh, NULL);
	}
	kab_queue_work(&bind->work);
	return 0;
}

static void kab_psi_queue_proc(struct file *file, wait_queue_head_t *wqh,
			       poll_table *pt)
{
	struct kab_psi_bind *bind = container_of(pt, struct kab_psi_bind, pt);

	if (bind->wqh)		/* a PSI file names a single queue */
		return;
	bind->wqh = wqh;
	add_wait_queue(wqh, &bind->wait);
}

static void kab_psi_leave_queue(struct kab_psi_bind *bind)
{
	wait_queue_head_t *wqh;

	rcu_read_lock();
	/* NULL once a POLLFREE wake-up took @wait off; see kab_psi_wakeup(). */
	wqh = smp_load_acquire(&bind->wqh);
	if (wqh)
		remove_wait_queue(wqh, &bind->wait);
	rcu_read_unlock();
	WRITE_ONCE(bind->wqh, NULL);
}

static void kab_psi_unbind_locked(struct kab_psi_bind *bind)
{
	struct file *file;

	lockdep_assert_held(&bind->lock);

	if (bind->state != KAB_PSI_BOUND)
		return;
	kab_psi_leave_queue(bind);
	/* Cleared before the file can go: kab_psi_claim() compares it. */
	file = bind->file;
	WRITE_ONCE(bind->file, NULL);
	fput(file);
	WRITE_ONCE(bind->state, KAB_PSI_UNBOUND);
	atomic_dec(&kab_psi_nr_bound[bind->host]);
}

static void kab_psi_work(struct work_struct *work)
{
	struct kab_psi_bind *bind =
		container_of(work, struct kab_psi_bind, work);
	struct kab_host_report r = {
		.source	= KAB_SRC_PSI,
		.scope	= bind->scope,
		.vm_id	= bind->vm_id,
	};
	bool fire = false;
	__poll_t mask;
	int ret;

	mutex_lock(&bind->lock);
	/* Before start the event stays set in the trigger, for start. */
	if (bind->state != KAB_PSI_BOUND || !bind->started)
		goto out;
	/* This poll clears the trigger's event: it re-arms the trigger. */
	mask = READ_ONCE(bind->wqh) ? vfs_poll(bind->file, NULL) : EPOLLHUP;
	if (mask & (EPOLLERR | EPOLLHUP)) {
		/* The trigger is gone (its cgroup was removed). */
		kab_psi_unbind_locked(bind);
		atomic_long_inc(&kab_psi_unbinds);
		goto out;
	}
	fire = (mask & EPOLLPRI) || atomic_xchg(&bind->missed, 0);
out:
	mutex_unlock(&bind->lock);
	if (!fire)
		return;
	r.level = bind->level ? bind->level : READ_ONCE(kab_psi_level);
	ret = kab_host_report(&r);
	/* -ENOENT: the VM is being released; the event has nobody to go to. */
	if (ret == -ENOENT && bind->scope == KAB_SCOPE_VM)
		return;
	WARN_ONCE(ret, "PSI event of scope %d refused: %d\n", bind->scope,
		  ret);
}

/* ---- bind and unbind ---- */

/* /proc/pressure/memory, or a cgroup's memory.pressure. */
static bool kab_psi_is_memory_file(struct file *file)
{
	struct dentry *dentry = file->f_path.dentry;
	struct dentry *parent = dentry->d_parent;

	switch (dentry->d_sb->s_magic) {
	case CGROUP2_SUPER_MAGIC:
		return !strcmp(dentry->d_name.name, "memory.pressure");
	case PROC_SUPER_MAGIC:
		return !strcmp(dentry->d_name.name, "memory") &&
		       !strcmp(parent->d_name.name, "pressure") &&
		       IS_ROOT(parent->d_parent);
	default:
		return false;
	}
}

/* Put @bind on kab_psi_binds unless its file is bound already. */
static int kab_psi_claim(struct kab_psi_bind *bind)
{
	struct kab_psi_bind *other;
	int ret = 0;

	mutex_lock(&kab_psi_binds_lock);
	list_for_each_entry(other, &kab_psi_binds, node) {
		if (READ_ONCE(other->file) == bind->file) {
			ret = -EEXIST;
			break;
		}
	}
	if (!ret)
		list_add(&bind->node, &kab_psi_binds);
	mutex_unlock(&kab_psi_binds_lock);
	return ret;
}

static void kab_psi_release_claim(struct kab_psi_bind *bind)
{
	mutex_lock(&kab_psi_binds_lock);
	list_del(&bind->node);
	mutex_unlock(&kab_psi_binds_lock);
}

/*
 * Take the trigger file behind @fd and start listening; events are only
 * delivered after kab_psi_start(). Returns the binding, or ERR_PTR of
 * -EBADF (not an open fd), -EINVAL (not a memory PSI file, no trigger
 * written on it, or its cgroup is gone), -EEXIST (the trigger is bound
 * already), -ENOMEM.
 */
static struct kab_psi_bind *kab_psi_bind_new(s32 fd, enum kab_scope scope,
					     u32 vm_id, unsigned int level,
					     bool host)
{
	struct kab_psi_bind *bind;
	struct file *file;
	__poll_t mask;
	int ret;

	if (fd < 0)
		return ERR_PTR(-EBADF);
	file = fget(fd);
	if (!file)
		return ERR_PTR(-EBADF);
	if (!kab_psi_is_memory_file(file)) {
		fput(file);
		return ERR_PTR(-EINVAL);
	}
	bind = kzalloc(sizeof(*bind), GFP_KERNEL_ACCOUNT);
	if (!bind) {
		fput(file);
		return ERR_PTR(-ENOMEM);
	}
	bind->file = file;
	bind->scope = scope;
	bind->vm_id = vm_id;
	bind->level = level;
	bind->host = host;
	bind->state = KAB_PSI_BOUND;
	mutex_init(&bind->lock);
	INIT_WORK(&bind->work, kab_psi_work);
	init_waitqueue_func_entry(&bind->wait, kab_psi_wakeup);
	init_poll_funcptr(&bind->pt, kab_psi_queue_proc);
	ret = kab_psi_claim(bind);
	if (ret)
		goto err_free;

	mask = vfs_poll(file, &bind->pt);
	if (mask & EPOLLERR) {
		/* No trigger on this file, or the cgroup was removed. */
		kab_psi_leave_queue(bind);
		cancel_work_sync(&bind->work);
		kab_psi_release_claim(bind);
		ret = -EINVAL;
		goto err_free;
	}
	if (mask & EPOLLPRI)
		atomic_set(&bind->missed, 1);
	atomic_inc(&kab_psi_nr_bound[host]);
	return bind;

err_free:
	fput(file);
	kfree(bind);
	return ERR_PTR(ret);
}

static void kab_psi_start(struct kab_psi_bind *bind)
{
	mutex_lock(&bind->lock);
	bind->started = true;
	mutex_unlock(&bind->lock);
	/* Deliver what came while binding, and a flag left set meanwhile. */
	kab_queue_work(&bind->work);
}

static void kab_psi_destroy(struct kab_psi_bind *bind)
{
	mutex_lock(&bind->lock);
	kab_psi_unbind_locked(bind);
	mutex_unlock(&bind->lock);
	/* Off the queue: nothing can queue the work item again. */
	cancel_work_sync(&bind->work);
	kab_psi_release_claim(bind);
	mutex_destroy(&bind->lock);
	kfree(bind);
}

/* ---- per VM ---- */

int kab_psi_bind_vm(struct kab_vm *vm, s32 psi_fd)
{
	struct kab_psi_bind *bind;

	if (psi_fd == KAB_NO_FD)
		return 0;
	bind = kab_psi_bind_new(psi_fd, KAB_SCOPE_VM, vm->id, 0, false);
	if (IS_ERR(bind))
		return PTR_ERR(bind);
	vm->psi = bind;
	return 0;
}

void kab_psi_start_vm(struct kab_vm *vm)
{
	if (vm->psi)
		kab_psi_start(vm->psi);
}

void kab_psi_unbind_vm(struct kab_vm *vm)
{
	if (!vm->psi)
		return;
	kab_psi_destroy(vm->psi);
	vm->psi = NULL;
}

/* vms/<id>/psi_trigger: "none", "bound" or "unbound" (trigger gone). */
const char *kab_psi_state_name(const struct kab_psi_bind *bind)
{
	if (!bind)
		return "none";
	return READ_ONCE(bind->state) == KAB_PSI_BOUND ? "bound" : "unbound";
}

/* ---- host wide: KAB_BIND_HOST_PSI ---- */

static int kab_psi_host_release(struct inode *inode, struct file *file)
{
	kab_psi_destroy(file->private_data);
	atomic_dec(&kab_psi_host_files);
	return 0;
}

static const struct file_operations kab_psi_host_fops = {
	.owner		= THIS_MODULE,
	.release	= kab_psi_host_release,
	.llseek		= noop_llseek,
};

static int kab_psi_check_host_req(const struct kab_host_psi *req)
{
	unsigned int i;

	if (req->flags)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(req->reserved); i++)
		if (req->reserved[i])
			return -EINVAL;
	if (req->level > KAB_LEVEL_CRITICAL)
		return -EINVAL;
	return 0;
}

long kab_psi_bind_host(const void __user *uarg)
{
	struct kab_psi_bind *bind;
	struct kab_host_psi req;
	struct file *file;
	int ret, fd;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = kab_copy_sized_arg(&req, sizeof(req), uarg,
				 KAB_HOST_PSI_SIZE_VER0);
	if (ret)
		return ret;
	ret = kab_psi_check_host_req(&req);
	if (ret)
		return ret;

	if (atomic_inc_return(&kab_psi_host_files) > KAB_PSI_MAX_HOST) {
		ret = -ENOSPC;
		goto err_dec;
	}
	bind = kab_psi_bind_new(req.psi_fd, KAB_SCOPE_GLOBAL, 0, req.level,
				true);
	if (IS_ERR(bind)) {
		ret = PTR_ERR(bind);
		goto err_dec;
	}
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_destroy;
	}
	file = anon_inode_getfile("kab-psi", &kab_psi_host_fops, bind, O_RDWR);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		put_unused_fd(fd);
		goto err_destroy;
	}
	kab_psi_start(bind);
	fd_install(fd, file);
	return fd;

err_destroy:
	kab_psi_destroy(bind);
err_dec:
	atomic_dec(&kab_psi_host_files);
	return ret;
}

/* ---- sysfs: sources/psi/ ---- */

static ssize_t level_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(kab_psi_level));
}

static ssize_t level_store(struct kobject *kobj, struct kobj_attribute *attr,
			   const char *buf, size_t count)
{
	unsigned int val;

	if (kstrtouint(buf, 0, &val) ||
	    val < KAB_LEVEL_LOW || val > KAB_LEVEL_CRITICAL)
		return -EINVAL;
	WRITE_ONCE(kab_psi_level, val);
	return count;
}

static ssize_t host_triggers_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&kab_psi_nr_bound[true]));
}

static ssize_t vm_triggers_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&kab_psi_nr_bound[false]));
}

static ssize_t unbinds_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&kab_psi_unbinds));
}

static struct kobj_attribute kab_psi_attr_level = __ATTR_RW(level);
static struct kobj_attribute kab_psi_attr_host_triggers =
	__ATTR_RO(host_triggers);
static struct kobj_attribute kab_psi_attr_vm_triggers = __ATTR_RO(vm_triggers);
static struct kobj_attribute kab_psi_attr_unbinds = __ATTR_RO(unbinds);

static struct attribute *kab_psi_attrs[] = {
	&kab_psi_attr_level.attr,
	&kab_psi_attr_host_triggers.attr,
	&kab_psi_attr_vm_triggers.attr,
	&kab_psi_attr_unbinds.attr,
	NULL,
};

static const struct attribute_group kab_psi_group = {
	.attrs = kab_psi_attrs,
};

const struct kab_source_ops kab_psi_source = {
	.name	= "psi",
	.attrs	= &kab_psi_group,
};
