/*
 * The core's extension interface: the one core header that a layer built on top of
 * libamorsize includes (the MPI layer, mpi/; the tool, src/cli/, for `amorsize
 * probe`). Not installed; there is no ABI promise: an extension is built from the
 * same source tree as the core it links.
 *
 * What an extension sees
 * ----------------------
 * - The functions marked AMZ__EXT in the headers below: the only amz__ symbols
 *   libamorsize exports. They are listed here by lifecycle step; each is
 *   documented where it is declared.
 * - The base layer (ranges.h, common.h's statistics and formatting, workload.h's
 *   model, cost_model.h, planner.h, schedule.h, findings.h, profile_path.h's path
 *   functions): code without state that each component links its own hidden copy
 *   of (amorsize_base in CMakeLists.txt). An extension calls it freely.
 * - The plan and result structs (plan.h), with the field rules below.
 *
 * The lifecycle, and the core's functions for each step
 * ------------------------------------------------------
 * A plan is created by one function and run by one function of the core, for
 * threads-only plans and an extension's alike; the extension plugs in the steps
 * that differ as operations (plan.h gives their order and contracts):
 *
 * 1. Create: allocate the plan zeroed, amz__plan_init (task, name, options,
 *    clock), then amz__plan_make with amz__create_ops_t. It resolves the
 *    constraints, and calls the extension's agree (its processes' common status),
 *    open (its checks; the profile's precheck, amz__profile_precheck; the
 *    checkpoint, amz__ckpt_open and amz__ckpt_set_writer), probe (into
 *    p->machine: amz__topology_probe_in, amz__costs_probe), sample (amz__sample on
 *    p->pool, under the watchdog of amz__plan_watch; processes exchanging samples
 *    build the shared model with the base layer's amz__workload_from_samples, and
 *    pool their contention pairs with amz__contention_from_pairs),
 *    decide (the base layer's cost model and candidate search; amz__sim_costs_create
 *    for simulated candidates) and ready. Between them the core sets the
 *    checkpoint's cost, starts the pool, makes the first run's skip set, and at
 *    the end records the set-up time and calls on_plan_ready, or destroys the
 *    plan on error.
 * 2. Explain: ext_ops->explain, which may print the core's Workload section
 *    (amz__explain_workload) and the prediction's interval (amz__explain_interval).
 * 3. Run: amz__plan_run with amz__run_ops_t. It grows the pool, calls prepare (the
 *    extension's chunk source and helpers), runs the executor under the progress
 *    line, calls executed, ends the first run's checkpoint, calls build (the
 *    result, merged over the extension's processes; amz__result_build makes one
 *    from the executor's output), record (the profile), refine (the model from the
 *    run; the base layer's amz__workload_rescale), counts the run, applies the one
 *    re-plan rule (decide or predict), computes the next prediction's interval
 *    (amz__plan_interval, for both kinds), judges the findings and calls on_finish.
 *    amz__plan_ckpt_end ends the checkpoint of a process that takes no part in a
 *    run.
 * 4. Inside a run: a kernel wrapper of the extension's own (interleaved sampling,
 *    map mode) calls the user's kernel through retry.h's inline amz__run_items
 *    (amz__watch_call, amz__run_failed), marks its calls with amz__watch_current,
 *    amz__watch_enter and amz__watch_leave, logs completed ranges with
 *    amz__ckpt_log, and moves the time spent on data out of the kernel's with
 *    amz__tls_excluded_s and amz__tls_excluded_cpu_s. Clocks: amz__monotonic_now,
 *    amz__thread_cpu_now.
 * 5. For the MPI layer's white-box benchmark (bench_profile, which times the
 *    executor's recording alone): amz__pool_init, amz__execute,
 *    amz__exec_out_free, amz__pool_destroy, amz__real_clock.
 * Errors at any step: amz__fail records the detail amz_last_error() returns on the
 * calling thread, and returns the code.
 *
 * What an extension may do with a plan
 * ------------------------------------
 * - Allocate it zeroed and call amz__plan_init before anything else; set ext_ops
 *   (static, outlives the plan) and ext (its own state) before amz__plan_make. amz_plan_destroy calls
 *   ext_ops->destroy(ext) once; amz_plan_explain calls ext_ops->explain; amz_run
 *   refuses the plan, naming ext_ops->run_with.
 * - Write, while creating the plan (in its create operations): cons, machine,
 *   wl, the sampling records (sampled, sampled_failed, sample_recs,
 *   sample_rec_workers, n_sample_recs, sample_retry_calls, sample_recovered), the
 *   checkpoint fields (ckpt, ckpt_open, ckpt_info, resumed), watch's rank and
 *   abort hook (before amz__plan_init), task.arg when it wraps the user's kernel
 *   (map mode), and profile_overwrite once all processes agree on it.
 * - Write, whenever it decides (creation and re-planning): dec, workers, ranks,
 *   schedule, chunk, next_terms, full_terms, serial_pred_s, search_s.
 * - Write after each run: profile_last (the file its own profile writer
 *   replaced); amz__plan_run counts the run (runs). A process that takes no part
 *   in a run counts it itself.
 * - Read everything else; never write opts, name or profile (amz__plan_init owns
 *   them) nor setup_s (amz__plan_created).
 * - Run it only after atomic_exchange(&running, 1) returned 0; amz__plan_run
 *   clears running (an early return clears it itself). A plan runs on one thread
 *   at a time.
 *
 * What the core guarantees
 * ------------------------
 * - Every AMZ__EXT function is safe to call from any thread on distinct objects;
 *   amz__fail's detail is thread-local.
 * - The core calls into an extension only through ext_ops, the amz__run_ops_t it
 *   was handed (on the thread that called amz__plan_run, in the order plan.h
 *   gives), the chunk source and the kernel wrappers (on the pool's threads).
 * - A result built by amz__result_build may be given an ext (amz__result_ext_t);
 *   amz_result_destroy frees it with its per_rank rows and local_ranges.
 */
#ifndef AMORSIZE_EXTENSION_H
#define AMORSIZE_EXTENSION_H

#include "amorsize.h"
#include "common.h"
#include "ranges.h"
#include "topology.h"
#include "probe.h"
#include "pool.h"
#include "schedule.h"
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

#endif /* AMORSIZE_EXTENSION_H */
