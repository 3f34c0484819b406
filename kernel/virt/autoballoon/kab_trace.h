/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of kvm_autoballoon: every decision and every pressure event.
 * Use: perf record -e 'kvm_autoballoon:*'.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM kvm_autoballoon

#if !defined(_KAB_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _KAB_TRACE_H

#include <linux/tracepoint.h>

#include "source.h"

TRACE_EVENT(kab_decision,
	    TP_PROTO(u32 vm_id, u64 old_target, u64 new_target, u64 seq,
		     u32 reason),
	    TP_ARGS(vm_id, old_target, new_target, seq, reason),
	    TP_STRUCT__entry(__field(u32, vm_id)
			     __field(u32, reason)
			     __field(u64, old_target)
			     __field(u64, new_target)
			     __field(u64, seq)
	    ),
	    TP_fast_assign(__entry->vm_id = vm_id;
			    __entry->reason = reason;
			    __entry->old_target = old_target;
			    __entry->new_target = new_target;
			    __entry->seq = seq;
	    ),
	    TP_printk("vm=%u target=%llu->%llu seq=%llu reason=%u",
		      __entry->vm_id, __entry->old_target, __entry->new_target,
		      __entry->seq, __entry->reason)
);

TRACE_EVENT(kab_guest_pressure,
	    TP_PROTO(u32 vm_id, unsigned int level, u64 count),
	    TP_ARGS(vm_id, level, count),
	    TP_STRUCT__entry(__field(u32, vm_id)
			     __field(unsigned int, level)
			     __field(u64, count)
	    ),
	    TP_fast_assign(__entry->vm_id = vm_id;
			    __entry->level = level;
			    __entry->count = count;
	    ),
	    TP_printk("vm=%u level=%u count=%llu",
		      __entry->vm_id, __entry->level, __entry->count)
);

TRACE_DEFINE_ENUM(KAB_SRC_INJECT);
TRACE_DEFINE_ENUM(KAB_SRC_VMPRESSURE);
TRACE_DEFINE_ENUM(KAB_SRC_PSI);
TRACE_DEFINE_ENUM(KAB_SCOPE_GLOBAL);
TRACE_DEFINE_ENUM(KAB_SCOPE_MEMCG);
TRACE_DEFINE_ENUM(KAB_SCOPE_VM);

/*
 * One host pressure event: @cgroup is the cgroup id (the inode number of
 * its directory) for scope memcg, else 0; @vm_id the VM for scope vm, else
 * 0; @nr_vms how many VMs it concerned.
 */
TRACE_EVENT(kab_host_pressure,
	    TP_PROTO(unsigned int source, unsigned int level, unsigned int scope,
		     u64 cgroup, u32 vm_id, unsigned int nr_vms),
	    TP_ARGS(source, level, scope, cgroup, vm_id, nr_vms),
	    TP_STRUCT__entry(__field(unsigned int, source)
			     __field(unsigned int, level)
			     __field(unsigned int, scope)
			     __field(u32, vm_id)
			     __field(u64, cgroup)
			     __field(unsigned int, nr_vms)
	    ),
	    TP_fast_assign(__entry->source = source;
			    __entry->level = level;
			    __entry->scope = scope;
			    __entry->vm_id = vm_id;
			    __entry->cgroup = cgroup;
			    __entry->nr_vms = nr_vms;
	    ),
	    TP_printk("source=%s level=%u scope=%s cgroup=%llu vm=%u nr_vms=%u",
		      __print_symbolic(__entry->source,
				       { KAB_SRC_INJECT, "inject" },
				       { KAB_SRC_VMPRESSURE, "vmpressure" },
				       { KAB_SRC_PSI, "psi" }),
		      __entry->level,
		      __print_symbolic(__entry->scope,
				       { KAB_SCOPE_GLOBAL, "global" },
				       { KAB_SCOPE_MEMCG, "memcg" },
				       { KAB_SCOPE_VM, "vm" }),
		      __entry->cgroup, __entry->vm_id, __entry->nr_vms)
);

#endif /* _KAB_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE kab_trace
#include <trace/define_trace.h>
