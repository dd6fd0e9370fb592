/* transport.h - what the gRPC transport (transport.c) needs from execute.c beyond service.h:
 * Execute messages handed over without a copy. */
#ifndef PL_SERVER_TRANSPORT_H
#define PL_SERVER_TRANSPORT_H

#include "server/service.h"

/* One packed ExecuteResponse: len bytes at data, inside the buffer base (pl_srv_msg_free).
 * The Arrow IPC bytes are written once, into the buffer that goes out on the wire; the
 * protobuf header (field tag and length) is put right before them. */
typedef struct pl_srv_msg {
    void *base;
    uint8_t *data;
    size_t len;
} pl_srv_msg;

/* Returns a message buffer (to a small cache of reusable buffers). Thread-safe. */
void pl_srv_msg_free(void *base);
/* pl_srv_execute_next without the copy: *done = true and out->base = NULL after the summary.
 * For a query started by pl_srv_execute_start_inline, out->base = NULL with *done = false
 * means the rest must run on a runner (pl_srv_execute_to_runner first). */
pl_status pl_srv_execute_next_msg(pl_srv_exec *x, pl_srv_msg *out, bool *done, pl_error *err);
/* True once the summary has been handed out (the last message). */
bool pl_srv_execute_finished(const pl_srv_exec *x);
/* When the query must end (the client's deadline or the query time limit; pl_now_ns clock;
 * 0 = never): the transport stops waiting for a slow client then. */
int64_t pl_srv_execute_deadline(const pl_srv_exec *x);
/* PL_ERR_CANCELLED with the reason: the client cancelled, the time limit, the deadline. */
pl_status pl_srv_execute_stop_reason(pl_srv_exec *x, pl_error *err);
/* Rows and IPC bytes produced so far. */
void pl_srv_execute_progress(const pl_srv_exec *x, int64_t *rows, int64_t *bytes);

/* Same-host result files (execute.c): release one lease of owner (true if it existed), drop
 * the expired ones (or all, at shutdown), and the bytes held in them. */
bool pl_srv_shm_release(const pl_srv *srv, const char *owner, const char *lease_id);
/* ReleaseSharedMemory in full: with client_pid > 0 the lease is lent to that process (kept until
 * unmapped or the process exits, then reused; see execute.c "Reuse"), with unmapped its files go
 * to the reuse pool now; else as pl_srv_shm_release. */
bool pl_srv_shm_release_ex(const pl_srv *srv, const char *owner, const char *lease_id,
                           int64_t client_pid, bool unmapped);
/* The reuse pool: its bytes; removes pooled files of srv until at least want bytes are freed
 * (want <= 0: all), returning the bytes freed; bytes of pooled files reused so far (all
 * servers of the process). */
int64_t pl_srv_shm_pool_bytes(const pl_srv *srv);
int64_t pl_srv_shm_pool_trim(const pl_srv *srv, int64_t want);
int64_t pl_srv_shm_reused_bytes(void);
/* Bytes of results copied into the writable mappings of pooled files (no write(2)). */
int64_t pl_srv_shm_mapped_bytes(void);
void pl_srv_shm_sweep(const pl_srv *srv, int64_t now_ns, bool all);
/* Checks the lent leases that are due (their process still maps the files? pooled when not):
 * the sweep's part that a release with a client pid or "unmapped" asks for at once. */
void pl_srv_shm_check_lent(const pl_srv *srv, int64_t now_ns);
/* Tests: the available memory under which the sweep trims the reuse pool (0: a quarter of the
 * machine's memory). */
void pl_srv_shm_set_reserve_for_testing(int64_t bytes);
int64_t pl_srv_shm_bytes(const pl_srv *srv);
/* The lease id once x's result went into a file (its SharedMemoryResult was handed out), else
 * NULL. */
const char *pl_srv_execute_lease(const pl_srv_exec *x);
/* Ties the lease to the Execute call that made it, which stays open meanwhile: wake(user) is
 * called exactly once, from whichever thread ends the wait with no lock held, when the lease is
 * released, when hold_until_ns passes (pl_srv_shm_sweep; the lease then lives until its TTL) or
 * at pl_srv_shm_wake_all. False (nothing attached) when the lease is gone already or *cancel is
 * set. After true the caller must not touch the call: wake resumes it. */
bool pl_srv_shm_attach(const pl_srv *srv, const char *lease_id, int64_t hold_until_ns,
                       const int *cancel, void (*wake)(void *user), void *user);
/* The call ended first (client cancel or disconnect): takes the wake back (true when it was
 * still pending: the caller resumes the call itself) and, with drop, removes the lease and its
 * file. */
bool pl_srv_shm_detach(const pl_srv *srv, const char *lease_id, bool drop);
/* Removes the result files of servers that died without cleaning up (a crash, SIGKILL):
 * /dev/shm/polaroid-<pid>-*.arrows of this user whose process no longer exists. pl_srv_new
 * calls it. */
void pl_srv_shm_remove_stale(void);
/* Test hook: the bytes of one segment of a same-host result written in several files (0 = the
 * default, 4 MiB), so that small results spread over several files. */
void pl_srv_shm_set_segment_bytes_for_testing(int64_t n);
/* Test hook: called with a result file's path before bytes are copied into it through the
 * server's mapping of it (NULL: none), e.g. to truncate the file there. */
void pl_srv_shm_set_before_copy_for_testing(void (*fn)(const char *path));
/* Shutdown: every call waiting for a release goes on (the leases stay until the sweep). */
void pl_srv_shm_wake_all(const pl_srv *srv);

#endif
