/*
 * asc-mock: the bundled mock provider. It answers the OpenAI, Anthropic and
 * Mistral wire formats with deterministic text, tool calls, embeddings,
 * delays and faults chosen by the model name ("mock-fast@tokens=5,fault=429"),
 * by runtime overrides (/__mock/overrides) or by x-mock-* request headers.
 * docs/mock.md is the user-facing contract.
 *
 * Ownership: an asc_mock_t belongs to one event loop (one worker thread);
 * every function here except the request log and the thread API must be
 * called on that loop. Strings passed in are copied. The request log
 * (/__mock/requests) and the overrides (/__mock/overrides) are shared by
 * every engine of the process.
 */
#ifndef ASC_MOCK_MOCK_H
#define ASC_MOCK_MOCK_H

#include <stddef.h>

#include <uv.h>

#include "core/err.h"
#include "http/server.h"

typedef struct asc_mock asc_mock_t;

/* Create the engine state of one loop. require_key (copied) is the only API
 * key accepted; NULL accepts any key or none. Aborts on out-of-memory. */
asc_mock_t *asc_mock_create(uv_loop_t *loop, const char *require_key);

/* The HTTP handler (usable directly as an asc_http_handler_fn with ud = the
 * asc_mock_t). Every request it receives is ended, possibly later from a
 * timer of m's loop. */
void asc_mock_handle(asc_http_req_t *req, void *ud);

/* Begin shutting down: requests parked by fault=stall/stall_mid are ended
 * (the connection closes) and later ones are closed at once; responses
 * being streamed go on. Call it next to asc_http_server_shutdown(). */
void asc_mock_shutdown(asc_mock_t *m);

/* Number of requests the engine is still answering (timers, streams,
 * stalls). */
unsigned asc_mock_inflight(const asc_mock_t *m);

/* Free the engine; only after its server has shut down (every request
 * ended) and the loop has run the close callbacks. NULL is a no-op. */
void asc_mock_free(asc_mock_t *m);

/* In-process mock: a thread with its own uv loop, engine and HTTP server on
 * host:port (port 0 = ephemeral). Used by `asc serve` for providers of kind
 * mock without base_url, by asc-mock's workers and by tests. */
typedef struct asc_mock_thread asc_mock_thread_t;

/* Start the thread and wait until its server is bound: *port_out (may be
 * NULL) gets the bound port and *out the handle. require_key as for
 * asc_mock_create (NULL = any). On failure returns an error with a message
 * in err (at least 256 bytes) and nothing is left running. */
asc_err_t asc_mock_thread_start(const char *host, int port, int *port_out, asc_mock_thread_t **out,
                                char *err, size_t errlen);

/* The same with a required key and a connection counter shared with other
 * servers of the process (NULL = a private one). */
asc_err_t asc_mock_thread_start_ex(const char *host, int port, const char *require_key,
                                   atomic_uint *conn_count, int *port_out, asc_mock_thread_t **out,
                                   char *err, size_t errlen);

/* Graceful stop: the server stops accepting, stalled requests are closed,
 * streams in flight get up to ASC_MOCK_GRACE_MS to finish and are then
 * aborted; the thread is joined and everything freed. Blocks. NULL is a
 * no-op. */
void asc_mock_thread_stop(asc_mock_thread_t *t);

/* Begin the stop of asc_mock_thread_stop without waiting (to stop several
 * threads in parallel); asc_mock_thread_stop still joins and frees. */
void asc_mock_thread_signal(asc_mock_thread_t *t);

#define ASC_MOCK_GRACE_MS 2000

#endif
