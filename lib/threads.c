/* Persistent worker pool. Workers sleep on a condition variable between
 * parallel regions. A region posts one job split into contiguous chunks:
 * the caller runs chunk 0 and worker i runs chunk i, so which thread computes
 * which part is fixed by the chunk count alone. One region runs at a time;
 * a caller that finds the pool busy, or that is itself inside a region, runs
 * the whole loop serially (callers' results never depend on the split). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "internal.h"

#define MAX_THREADS 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;   /* guards the job state */
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;     /* a job was posted, or quit */
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;     /* pending reached 0 */
static pthread_mutex_t region = PTHREAD_MUTEX_INITIALIZER; /* held for a whole region */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static pthread_t workers[MAX_THREADS];
static unsigned long start_gen[MAX_THREADS]; /* generation when worker i was made */
static int n_workers;
static _Atomic int n_threads;
static unsigned long generation;
static int quit, pending;
static agi_task_fn *job_fn;
static void *job_ctx;
static size_t job_n, job_chunks;
static _Thread_local int inside; /* running a chunk: nested regions are serial */

/* Chunk i of c over [0, n): the first n % c chunks are one longer. */
static void run_chunk(size_t i, agi_task_fn *fn, void *ctx, size_t n, size_t c)
{
    size_t q = n / c, r = n % c;
    size_t lo = i * q + (i < r ? i : r);
    fn(ctx, lo, lo + q + (i < r));
}

static void *worker_main(void *arg)
{
    size_t idx = (size_t)(uintptr_t)arg;
    inside = 1;
    pthread_mutex_lock(&lock);
    unsigned long seen = start_gen[idx];
    for (;;) {
        while (generation == seen && !quit)
            pthread_cond_wait(&wake, &lock);
        if (quit)
            break;
        seen = generation;
        if (idx < job_chunks) {
            agi_task_fn *fn = job_fn;
            void *ctx = job_ctx;
            size_t n = job_n, c = job_chunks;
            pthread_mutex_unlock(&lock);
            run_chunk(idx, fn, ctx, n, c);
            pthread_mutex_lock(&lock);
            if (--pending == 0)
                pthread_cond_signal(&done);
        }
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

/* Starts workers until there are want (lock held); returns how many run. */
static int start_workers(int want)
{
    while (n_workers < want) {
        int idx = n_workers + 1;
        start_gen[idx] = generation;
        if (pthread_create(&workers[n_workers], NULL, worker_main, (void *)(uintptr_t)idx) != 0)
            break;
        n_workers++;
    }
    return n_workers;
}

/* Joins every worker (region held, so no job is running). */
static void stop_workers(void)
{
    pthread_mutex_lock(&lock);
    quit = 1;
    pthread_cond_broadcast(&wake);
    int nw = n_workers;
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < nw; i++)
        pthread_join(workers[i], NULL);
    pthread_mutex_lock(&lock);
    quit = 0;
    n_workers = 0;
    pthread_mutex_unlock(&lock);
}

static int default_threads(void)
{
    const char *e = getenv("AGRAD_THREADS");
    long v = 0;
    if (e && *e) {
        char *end;
        v = strtol(e, &end, 10);
        if (*end != '\0')
            v = 0;
    }
    if (v <= 0)
        v = sysconf(_SC_NPROCESSORS_ONLN);
    return v < 1 ? 1 : v > MAX_THREADS ? MAX_THREADS : (int)v;
}

static void at_exit(void)
{
    if (pthread_mutex_trylock(&region) == 0) {
        stop_workers();
        pthread_mutex_unlock(&region);
    }
}

/* A forked child has only the forking thread: forget the workers. */
static void after_fork_child(void)
{
    pthread_mutex_init(&lock, NULL);
    pthread_mutex_init(&region, NULL);
    pthread_cond_init(&wake, NULL);
    pthread_cond_init(&done, NULL);
    n_workers = 0;
    quit = 0;
    pending = 0;
    inside = 0;
}

static void init_once(void)
{
    atomic_store(&n_threads, default_threads());
    atexit(at_exit);
    pthread_atfork(NULL, NULL, after_fork_child);
}

int ag_get_threads(void)
{
    pthread_once(&once, init_once);
    return atomic_load(&n_threads);
}

void ag_set_threads(int n)
{
    pthread_once(&once, init_once);
    int v = n <= 0 ? default_threads() : n > MAX_THREADS ? MAX_THREADS : n;
    pthread_mutex_lock(&region);
    if (v - 1 < n_workers)
        stop_workers();
    atomic_store(&n_threads, v);
    pthread_mutex_unlock(&region);
}

void agi_parallel_for(size_t n, size_t min_chunk, agi_task_fn *fn, void *ctx)
{
    if (n == 0)
        return;
    size_t chunks = n / (min_chunk ? min_chunk : 1);
    size_t nt = inside ? 1 : (size_t)ag_get_threads();
    if (chunks > nt)
        chunks = nt;
    if (chunks <= 1 || pthread_mutex_trylock(&region) != 0) {
        fn(ctx, 0, n);
        return;
    }
    pthread_mutex_lock(&lock);
    size_t have = (size_t)start_workers((int)chunks - 1) + 1;
    if (chunks > have)
        chunks = have;
    if (chunks > 1) {
        job_fn = fn;
        job_ctx = ctx;
        job_n = n;
        job_chunks = chunks;
        pending = (int)chunks - 1;
        generation++;
        pthread_cond_broadcast(&wake);
    }
    pthread_mutex_unlock(&lock);
    inside = 1;
    run_chunk(0, fn, ctx, n, chunks);
    inside = 0;
    if (chunks > 1) {
        pthread_mutex_lock(&lock);
        while (pending > 0)
            pthread_cond_wait(&done, &lock);
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_unlock(&region);
}
