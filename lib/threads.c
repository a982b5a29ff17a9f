/* Persistent worker pool. Workers sleep on a condition variable between
 * parallel regions. A region posts one job: [0, n) cut into contiguous
 * chunks whose bounds depend only on n and the chunk count. Each thread
 * has a block of the chunks, the same one in every region of the same size,
 * and claims them one at a time; then it claims what is left of the
 * others', so a worker that the OS is slow to schedule delays nothing: the
 * others take its chunks. One region runs at a time; a caller that finds
 * the pool busy, or that is itself inside a region, runs the whole loop
 * serially (callers' results never depend on the split).
 * Training loops post regions back to back, so a worker spins for a short
 * while after a job before it sleeps, and the caller spins before it waits:
 * a futex wake-up costs tens of microseconds on a busy machine. Neither
 * takes the lock unless the other sleeps: a worker that sees a new
 * generation reads the job without it, and the thread that finishes the
 * last chunk signals only a caller that waits. (Taking the lock as the
 * caller still held it sent the worker to sleep in the mutex: on a Zen 5,
 * a worker started its first chunk 0.7-1.1 us after the post.) */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

#define MAX_THREADS 64
/* Chunks per thread: small enough pieces to even out uneven progress. */
#define CHUNKS_PER_THREAD 4
/* How long a thread spins before it sleeps, in nanoseconds: long enough to
 * catch the next region of a training step without a futex wake-up (on a
 * 2-vCPU machine, 2-thread W-MLP: median 2010 steps/s with 0.2 ms, 1885
 * with 40 us, 5 interleaved runs each). Time rather than iterations, as a
 * pause costs 10 to 150 cycles depending on the CPU. */
static long spin_ns = 200000;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;   /* guards the job state */
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;     /* a job was posted, or quit */
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;     /* every chunk finished */
static pthread_mutex_t region = PTHREAD_MUTEX_INITIALIZER; /* held for a whole region */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static pthread_t workers[MAX_THREADS];
static int n_workers;
static _Atomic int n_sleeping;   /* workers in (or entering) the wait on wake */
static _Atomic int caller_waits; /* the caller waits on done */
static _Atomic int n_threads;
static _Atomic int quit;

/* The job (written under lock) and its progress. The chunks are dealt out
 * in blocks, one per thread of the pool: the caller's is block 0, worker
 * w's block w + 1. A thread claims the chunks of its own block first, then
 * those left in the others. So a thread gets the same part of the data in
 * every region of the same size, and what one region wrote is mostly read
 * where it was written. claim[b] holds the job's generation in its high 32
 * bits and block b's next chunk in the low ones, so a late worker cannot
 * claim a chunk of a later job. */
static _Atomic uint32_t generation;
static _Atomic uint64_t claim[MAX_THREADS];
static _Atomic size_t finished;
/* Job g lives in jobs[g % 2], written before g is published. The slot is
 * next written for job g + 2, after every chunk of g has run: a worker
 * that read it for g and then claims a chunk of g read g's values, and one
 * that claims nothing runs nothing. (Relaxed atomics: a late reader may
 * race with the next writer, and only discards what it read.) */
typedef struct job {
    _Atomic(agi_task_fn *) fn;
    _Atomic(void *) ctx;
    _Atomic size_t n, chunks, blocks;
} job;
static job jobs[2];
static _Thread_local int inside; /* running a chunk: nested regions are serial */

static void cpu_relax(void)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_ia32_pause();
#endif
}

/* Spins until done(arg) or the spin budget is spent; returns done(arg).
 * The spinner yields its CPU every few pauses: when the scheduler has put
 * a worker on the caller's CPU, a pure spin starves the very thread it
 * waits for. (2-thread W-MLP on a 2-vCPU machine: 923-2061 steps/s over
 * runs without the yield, 1875-2036 in 8 runs with it; slow runs still
 * happen at times when PyTorch slows down too, which points at the host.)
 * The first SPIN_PURE pauses do not yield: a region's end or the next
 * post usually comes within them, and a sched_yield is a system call (0.4
 * us in a VM) that the awaited write then waits out. Regions of 8 chunks
 * of 0.14 us on 2 threads (a scratch program): 1.29 -> 0.96 us each. */
#define SPIN_PURE 64
static int spin_until(int (*done)(const void *), const void *arg)
{
    uint64_t end = 0;
    for (unsigned i = 0;; i++) {
        if (done(arg))
            return 1;
        if (i >= SPIN_PURE && (i & 7) == 0)
            sched_yield();
        if ((i & 63) == 0) { /* the clock every 64 pauses */
            uint64_t t = agi_now_ns();
            if (!end)
                end = t + (uint64_t)spin_ns;
            else if (t >= end)
                return 0;
        }
        cpu_relax();
    }
}

static int job_posted(const void *seen)
{
    return atomic_load(&generation) != *(const uint32_t *)seen || atomic_load(&quit);
}

static int all_finished(const void *chunks)
{
    return atomic_load(&finished) >= *(const size_t *)chunks;
}

/* Block b's chunks: [b c / blocks, (b + 1) c / blocks). */
static size_t block_start(size_t b, size_t c, size_t blocks)
{
    return b * c / blocks;
}

/* Claims and runs chunks of job gen until none is left: block `home`
 * first, then the others in turn. */
static void run_chunks(uint32_t gen, agi_task_fn *fn, void *ctx, size_t n, size_t c,
                       size_t blocks, size_t home)
{
    size_t q = n / c, r = n % c;
    for (size_t k = 0; k < blocks; k++) {
        size_t b = (home + k) % blocks, end = block_start(b + 1, c, blocks);
        for (;;) {
            uint64_t v = atomic_load(&claim[b]);
            size_t i;
            do {
                i = (size_t)(v & 0xffffffffu);
                if ((uint32_t)(v >> 32) != gen || i >= end)
                    break;
            } while (!atomic_compare_exchange_weak(&claim[b], &v, v + 1));
            if ((uint32_t)(v >> 32) != gen)
                return; /* a later job: this one is done */
            if (i >= end)
                break;
            /* chunk i: the first n % c chunks are one longer */
            size_t lo = i * q + (i < r ? i : r);
            fn(ctx, lo, lo + q + (i < r));
            /* (the caller sets caller_waits before it reads finished) */
            if (atomic_fetch_add(&finished, 1) + 1 == c && atomic_load(&caller_waits)) {
                pthread_mutex_lock(&lock);
                pthread_cond_signal(&done);
                pthread_mutex_unlock(&lock);
            }
        }
    }
}

/* Waits until the generation differs from seen or quit is set. A sleeper
 * counts itself in n_sleeping before it reads the generation, and the
 * caller reads n_sleeping after it publishes one: one of them sees the
 * other, so no post is missed. */
static void wait_for_job(uint32_t seen)
{
    if (spin_until(job_posted, &seen))
        return;
    pthread_mutex_lock(&lock);
    atomic_fetch_add(&n_sleeping, 1);
    while (atomic_load(&generation) == seen && !atomic_load(&quit))
        pthread_cond_wait(&wake, &lock);
    atomic_fetch_sub(&n_sleeping, 1);
    pthread_mutex_unlock(&lock);
}

/* What a new worker starts from: its pool slot (its block is slot + 1) and
 * the generation before its first job. */
typedef struct worker_arg {
    size_t slot;
    uint32_t seen;
} worker_arg;
static worker_arg worker_args[MAX_THREADS];

static void *worker_main(void *arg)
{
    const worker_arg *a = arg;
    size_t home = a->slot + 1;
    uint32_t seen = a->seen;
    inside = 1;
    for (;;) {
        wait_for_job(seen);
        if (atomic_load(&quit))
            break;
        seen = atomic_load(&generation);
        job *j = &jobs[seen % 2];
        agi_task_fn *fn = atomic_load_explicit(&j->fn, memory_order_relaxed);
        void *ctx = atomic_load_explicit(&j->ctx, memory_order_relaxed);
        size_t n = atomic_load_explicit(&j->n, memory_order_relaxed);
        size_t c = atomic_load_explicit(&j->chunks, memory_order_relaxed);
        size_t blocks = atomic_load_explicit(&j->blocks, memory_order_relaxed);
        /* a worker beyond the job's blocks (the job asked for fewer) shares one */
        run_chunks(seen, fn, ctx, n, c, blocks, home % blocks);
    }
    return NULL;
}

/* Starts workers until there are want (lock held); returns how many run.
 * A new worker waits for the first job after the current generation. */
static int start_workers(int want)
{
    while (n_workers < want) {
        worker_arg *arg = &worker_args[n_workers];
        arg->slot = (size_t)n_workers;
        arg->seen = atomic_load(&generation);
        if (pthread_create(&workers[n_workers], NULL, worker_main, arg) != 0)
            break;
        n_workers++;
    }
    return n_workers;
}

/* Joins every worker (region held, so no job is running). */
static void stop_workers(void)
{
    pthread_mutex_lock(&lock);
    atomic_store(&quit, 1);
    pthread_cond_broadcast(&wake);
    int nw = n_workers;
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < nw; i++)
        pthread_join(workers[i], NULL);
    pthread_mutex_lock(&lock);
    atomic_store(&quit, 0);
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
    atomic_store(&n_sleeping, 0);
    atomic_store(&caller_waits, 0);
    atomic_store(&quit, 0);
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
    if (inside) { /* called from a chunk: the pool is busy; workers are trimmed later */
        atomic_store(&n_threads, v);
        return;
    }
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
    if (chunks > nt * CHUNKS_PER_THREAD)
        chunks = nt * CHUNKS_PER_THREAD;
    if (chunks > 0xffffffffu)
        chunks = 0xffffffffu;
    if (nt <= 1 || chunks <= 1 || pthread_mutex_trylock(&region) != 0) {
        fn(ctx, 0, n);
        return;
    }
    size_t want = nt - 1 < chunks - 1 ? nt - 1 : chunks - 1;
    if ((size_t)n_workers < want) { /* (n_workers changes only under region) */
        pthread_mutex_lock(&lock);
        int started = start_workers((int)want);
        pthread_mutex_unlock(&lock);
        if (started == 0) {
            pthread_mutex_unlock(&region);
            fn(ctx, 0, n);
            return;
        }
    }
    size_t blocks = want + 1; /* the caller and the workers asked for */
    uint32_t gen = atomic_load(&generation) + 1;
    job *j = &jobs[gen % 2];
    atomic_store_explicit(&j->fn, fn, memory_order_relaxed);
    atomic_store_explicit(&j->ctx, ctx, memory_order_relaxed);
    atomic_store_explicit(&j->n, n, memory_order_relaxed);
    atomic_store_explicit(&j->chunks, chunks, memory_order_relaxed);
    atomic_store_explicit(&j->blocks, blocks, memory_order_relaxed);
    atomic_store(&finished, 0);
    for (size_t b = 0; b < blocks; b++)
        atomic_store(&claim[b], (uint64_t)gen << 32 | block_start(b, chunks, blocks));
    atomic_store(&generation, gen); /* publishes the job to spinning workers */
    if (atomic_load(&n_sleeping)) {
        pthread_mutex_lock(&lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&lock);
    }
    inside = 1;
    run_chunks(gen, fn, ctx, n, chunks, blocks, 0);
    inside = 0;
    if (!spin_until(all_finished, &chunks)) {
        pthread_mutex_lock(&lock);
        atomic_store(&caller_waits, 1);
        while (atomic_load(&finished) < chunks)
            pthread_cond_wait(&done, &lock);
        atomic_store(&caller_waits, 0);
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_unlock(&region);
}

uint64_t agi_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
