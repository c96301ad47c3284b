/*
 * Internal declarations shared by the core modules. Nothing here is installed.
 * Internal non-static functions are prefixed amz__.
 */
#ifndef AMORSIZE_INTERNAL_H
#define AMORSIZE_INTERNAL_H

#include <pthread.h>
#include <sys/types.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "amorsize.h"
#include "common.h"
#include "findings.h"
#include "probe.h"
#include "topology.h"
#include "pool.h"
#include "schedule.h"
#include "ranges.h"
#include "checkpoint.h"
#include "retry.h"
#include "executor.h"
#include "workload.h"
#include "cost_model.h"
#include "planner.h"
#include "options.h"
#include "plan.h"
#include "progress.h"
#include "profile_path.h"

#endif /* AMORSIZE_INTERNAL_H */
