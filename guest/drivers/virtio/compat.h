/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the guest kernels virtio_autoballoon builds against
 * (Debian 12: 6.1 and 6.12). The VAB_HAVE_* macros come from the feature
 * tests in Kbuild; nothing else in the driver tests kernel versions.
 */
#ifndef _VAB_COMPAT_H
#define _VAB_COMPAT_H

#include <linux/shrinker.h>
#include <linux/virtio_config.h>

#ifndef CONFIG_VM_EVENT_COUNTERS
#error "virtio_autoballoon needs CONFIG_VM_EVENT_COUNTERS"
#endif

/*
 * 6.11 replaced the callbacks[] and names[] arrays of find_vqs() with one
 * array of struct virtqueue_info.
 */
static inline int vab_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
			       struct virtqueue *vqs[],
			       vq_callback_t *callbacks[],
			       const char * const names[])
{
#ifdef VAB_HAVE_VIRTQUEUE_INFO
	struct virtqueue_info info[4] = {};
	unsigned int i;

	if (nvqs > ARRAY_SIZE(info))
		return -EINVAL;
	for (i = 0; i < nvqs; i++) {
		info[i].name = names[i];
		info[i].callback = callbacks[i];
	}
	return virtio_find_vqs(vdev, nvqs, vqs, info, NULL);
#else
	return virtio_find_vqs(vdev, nvqs, vqs, callbacks, names, NULL);
#endif
}

/*
 * 6.7 made shrinkers dynamically allocated (shrinker_alloc(),
 * shrinker_register(), shrinker_free()) with a private_data pointer; before,
 * the caller embedded struct shrinker and used register_shrinker().
 */
struct vab_shrinker {
#ifdef VAB_HAVE_SHRINKER_ALLOC
	struct shrinker *shrinker;
#else
	struct shrinker shrinker;
	void *private_data;
#endif
};

static inline int
vab_shrinker_register(struct vab_shrinker *s,
		      unsigned long (*count)(struct shrinker *,
					     struct shrink_control *),
		      unsigned long (*scan)(struct shrinker *,
					    struct shrink_control *),
		      void *private_data, const char *name)
{
#ifdef VAB_HAVE_SHRINKER_ALLOC
	s->shrinker = shrinker_alloc(0, "%s", name);
	if (!s->shrinker)
		return -ENOMEM;
	s->shrinker->count_objects = count;
	s->shrinker->scan_objects = scan;
	s->shrinker->private_data = private_data;
	shrinker_register(s->shrinker);
	return 0;
#else
	s->shrinker.count_objects = count;
	s->shrinker.scan_objects = scan;
	s->shrinker.seeks = DEFAULT_SEEKS;
	s->private_data = private_data;
	return register_shrinker(&s->shrinker, "%s", name);
#endif
}

static inline void vab_shrinker_unregister(struct vab_shrinker *s)
{
#ifdef VAB_HAVE_SHRINKER_ALLOC
	shrinker_free(s->shrinker);
	s->shrinker = NULL;
#else
	unregister_shrinker(&s->shrinker);
#endif
}

static inline void *vab_shrinker_private(struct shrinker *shrinker)
{
#ifdef VAB_HAVE_SHRINKER_ALLOC
	return shrinker->private_data;
#else
	return container_of(shrinker, struct vab_shrinker,
			    shrinker)->private_data;
#endif
}

/*
 * Transport side of find_vqs(), for the test device model in
 * tools/testing/vm/guest/. A transport declares its operation as
 *	static int fn(struct virtio_device *vdev, unsigned int nvqs,
 *		      struct virtqueue *vqs[], VAB_FIND_VQS_PARAMS,
 *		      struct irq_affinity *desc)
 * and reads what the driver asked for queue i with VAB_VQ_REQUEST(i).
 */
struct vab_vq_request {
	vq_callback_t *callback;
	const char *name;
};

#ifdef VAB_HAVE_VIRTQUEUE_INFO
#define VAB_FIND_VQS_PARAMS	struct virtqueue_info vab_vqs_info[]
#define VAB_VQ_REQUEST(i)	vab_vq_request_info(vab_vqs_info, (i))

static inline struct vab_vq_request
vab_vq_request_info(const struct virtqueue_info info[], unsigned int i)
{
	return (struct vab_vq_request){ info[i].callback, info[i].name };
}
#else
#define VAB_FIND_VQS_PARAMS						\
	vq_callback_t *vab_callbacks[], const char * const vab_names[],	\
	const bool *vab_ctx
#define VAB_VQ_REQUEST(i)						\
	vab_vq_request_arrays(vab_callbacks, vab_names, (i))

static inline struct vab_vq_request
vab_vq_request_arrays(vq_callback_t *callbacks[], const char * const names[],
		      unsigned int i)
{
	return (struct vab_vq_request){ callbacks[i], names[i] };
}
#endif

#endif /* _VAB_COMPAT_H */
