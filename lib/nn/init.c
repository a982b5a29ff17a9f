/* Seeded random generator (xoshiro256**) and parameter initialisers. */
#include <math.h>
#include "internal.h"

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void ag_rng_seed(ag_rng *r, uint64_t seed)
{
    if (!r)
        return;
    uint64_t sm = seed;
    for (int i = 0; i < 4; i++) r->s[i] = agi_splitmix64(&sm);
    r->spare = 0;
    r->has_spare = 0;
}

/* xoshiro256** 1.0, Blackman and Vigna (public domain reference code). */
uint64_t ag_rng_next(ag_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double ag_rng_uniform(ag_rng *r)
{
    return (double)(ag_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t ag_rng_below(ag_rng *r, uint64_t n)
{
    if (n == 0)
        return 0;
    /* Reject the lowest 2^64 mod n draws so every residue is equally likely. */
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t x = ag_rng_next(r);
        if (x >= threshold)
            return x % n;
    }
}

double ag_rng_normal(ag_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    /* Box-Muller: u1 in (0, 1] keeps the log finite. */
    double u1 = 1.0 - ag_rng_uniform(r), u2 = ag_rng_uniform(r);
    double rad = sqrt(-2.0 * log(u1)), th = 6.283185307179586477 * u2;
    r->spare = rad * sin(th);
    r->has_spare = 1;
    return rad * cos(th);
}

static int check_target(const char *fn, ag_tensor *x, ag_rng *r)
{
    if (!x || !r || ag_is_poisoned(x))
        return agi_fail(NULL, AG_EINVAL, "%s: %s is NULL or poisoned", fn, r ? "tensor" : "rng");
    return AG_OK;
}

int ag_init_uniform(ag_tensor *x, double lo, double hi, ag_rng *r)
{
    if (check_target("ag_init_uniform", x, r))
        return AG_EINVAL;
    if (!(hi >= lo) || !isfinite(lo) || !isfinite(hi))
        return agi_fail(NULL, AG_EINVAL, "ag_init_uniform: bad range [%g, %g)", lo, hi);
    ag_real *d = ag_data(x);
    for (size_t i = 0; i < ag_numel(x); i++) d[i] = (ag_real)(lo + (hi - lo) * ag_rng_uniform(r));
    return AG_OK;
}

int ag_init_normal(ag_tensor *x, double mean, double std, ag_rng *r)
{
    if (check_target("ag_init_normal", x, r))
        return AG_EINVAL;
    if (!(std >= 0) || !isfinite(mean) || !isfinite(std))
        return agi_fail(NULL, AG_EINVAL, "ag_init_normal: bad mean %g or std %g", mean, std);
    ag_real *d = ag_data(x);
    for (size_t i = 0; i < ag_numel(x); i++) d[i] = (ag_real)(mean + std * ag_rng_normal(r));
    return AG_OK;
}

static int check_fans(const char *fn, size_t fan_in, size_t fan_out)
{
    if (fan_in == 0 || fan_out == 0)
        return agi_fail(NULL, AG_EINVAL, "%s: fan_in %zu and fan_out %zu must be > 0", fn,
                        fan_in, fan_out);
    return AG_OK;
}

int ag_init_xavier_uniform(ag_tensor *x, size_t fan_in, size_t fan_out, ag_rng *r)
{
    if (check_fans("ag_init_xavier_uniform", fan_in, fan_out))
        return AG_EINVAL;
    double a = sqrt(6.0 / ((double)fan_in + (double)fan_out));
    return ag_init_uniform(x, -a, a, r);
}

int ag_init_xavier_normal(ag_tensor *x, size_t fan_in, size_t fan_out, ag_rng *r)
{
    if (check_fans("ag_init_xavier_normal", fan_in, fan_out))
        return AG_EINVAL;
    return ag_init_normal(x, 0, sqrt(2.0 / ((double)fan_in + (double)fan_out)), r);
}

int ag_init_he_uniform(ag_tensor *x, size_t fan_in, ag_rng *r)
{
    if (check_fans("ag_init_he_uniform", fan_in, 1))
        return AG_EINVAL;
    double a = sqrt(6.0 / (double)fan_in);
    return ag_init_uniform(x, -a, a, r);
}

int ag_init_he_normal(ag_tensor *x, size_t fan_in, ag_rng *r)
{
    if (check_fans("ag_init_he_normal", fan_in, 1))
        return AG_EINVAL;
    return ag_init_normal(x, 0, sqrt(2.0 / (double)fan_in), r);
}
