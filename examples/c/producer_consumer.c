/* producer_consumer.c - producers stream record batches into a bounded channel, one consumer
 * folds them. The channel is a small ring buffer with a mutex and two condition variables: a
 * full channel blocks the producers (backpressure all the way to the query: a producer that
 * does not pull its stream leaves the rest of the result unread), and closing it once the last
 * producer is done ends the consumer's loop.
 *
 *   build/examples/producer_consumer [--server ADDR] [--files F...]
 */
#include <pthread.h>
#include <stdio.h>

#include "common.h"

/* ---------------------------------------------------------------- a bounded channel */

#define CHANNEL_CAP 4

typedef struct channel {
    pthread_mutex_t mu;
    pthread_cond_t not_full, not_empty;
    pl_batch *items[CHANNEL_CAP];
    int head, len;
    int open_senders; /* the channel closes when this reaches 0 */
    long full_waits;  /* how often a sender found it full (backpressure at work) */
    int max_len;
} channel;

static void channel_init(channel *c, int senders) {
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->not_full, NULL);
    pthread_cond_init(&c->not_empty, NULL);
    c->head = c->len = 0;
    c->open_senders = senders;
    c->full_waits = 0;
    c->max_len = 0;
}

static void channel_destroy(channel *c) {
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->not_full);
    pthread_cond_destroy(&c->not_empty);
}

/* Blocks while the channel is full; takes ownership of b. */
static void channel_send(channel *c, pl_batch *b) {
    pthread_mutex_lock(&c->mu);
    if (c->len == CHANNEL_CAP) c->full_waits++;
    while (c->len == CHANNEL_CAP) pthread_cond_wait(&c->not_full, &c->mu);
    c->items[(c->head + c->len) % CHANNEL_CAP] = b;
    if (++c->len > c->max_len) c->max_len = c->len;
    pthread_cond_signal(&c->not_empty);
    pthread_mutex_unlock(&c->mu);
}

/* A sender is done; the last one closes the channel. */
static void channel_sender_done(channel *c) {
    pthread_mutex_lock(&c->mu);
    if (--c->open_senders == 0) pthread_cond_broadcast(&c->not_empty);
    pthread_mutex_unlock(&c->mu);
}

/* The next batch, or NULL once the channel is closed and drained. */
static pl_batch *channel_recv(channel *c) {
    pthread_mutex_lock(&c->mu);
    while (c->len == 0 && c->open_senders > 0) pthread_cond_wait(&c->not_empty, &c->mu);
    pl_batch *b = NULL;
    if (c->len > 0) {
        b = c->items[c->head];
        c->head = (c->head + 1) % CHANNEL_CAP;
        c->len--;
        pthread_cond_signal(&c->not_full);
    }
    pthread_mutex_unlock(&c->mu);
    return b;
}

/* ---------------------------------------------------------------- producers */

typedef struct producer {
    ex_ctx *x;
    channel *ch;
    const char *path;
    pthread_t thread;
    pl_status st;
    pl_error err;
} producer;

static void *produce(void *arg) {
    producer *p = arg;
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT symbol, price, size FROM read_parquet('%s')", p->path);
    pl_error_init(&p->err);
    pl_stream *s = NULL;
    p->st = ex_stream(p->x, sql, &s, &p->err);
    while (p->st == PL_OK) {
        pl_batch *b = NULL;
        p->st = pl_stream_next(s, &b, &p->err);
        if (p->st != PL_OK || !b) break;
        channel_send(p->ch, b); /* waits here while the consumer is behind */
    }
    pl_stream_free(s);
    channel_sender_done(p->ch);
    return NULL;
}

int main(int argc, char **argv) {
    ex_ctx x = {.concurrency = 1};
    ex_parse_args(&x, argc, argv, "usage: producer_consumer [options]");
    pl_error err;
    pl_error_init(&err);
    if (ex_open(&x, &err)) {
        ex_print_error("connect", &err);
        return 1;
    }
    channel ch;
    channel_init(&ch, x.n_files);
    producer ps[EX_MAX_FILES] = {0};
    double t0 = ex_now();
    for (int i = 0; i < x.n_files; i++) {
        ps[i] = (producer){.x = &x, .ch = &ch, .path = x.files[i]};
        if (pthread_create(&ps[i].thread, NULL, produce, &ps[i]) != 0) return 1;
    }
    /* the consumer: rows, volume and the VWAP of every batch that arrives */
    long long rows = 0, batches = 0;
    double volume = 0, notional = 0;
    for (pl_batch *b; (b = channel_recv(&ch)) != NULL;) {
        for (int64_t r = 0; r < b->n_rows; r++) {
            double px = ex_batch_num(b, 1, r), sz = ex_batch_num(b, 2, r);
            volume += sz;
            notional += px * sz;
        }
        rows += b->n_rows;
        batches++;
        pl_batch_release(b);
    }
    int failures = 0;
    for (int i = 0; i < x.n_files; i++) {
        pthread_join(ps[i].thread, NULL);
        if (ps[i].st != PL_OK) {
            failures++;
            ex_print_error(ps[i].path, &ps[i].err);
        }
    }
    printf("%lld rows from %d files, %d failures: %lld batches, volume %.0f, vwap %.4f\n", rows,
           x.n_files, failures, batches, volume, volume > 0 ? notional / volume : 0.0);
    printf("channel capacity %d: max depth %d, producers waited %ld times on a full channel; "
           "%.2f s (%s)\n", CHANNEL_CAP, ch.max_len, ch.full_waits, ex_now() - t0,
           ex_backend_name(&x));
    channel_destroy(&ch);
    ex_close(&x);
    return failures == 0 ? 0 : 1;
}
