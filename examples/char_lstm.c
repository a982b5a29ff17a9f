/* A character-level language model: an LSTM reads text one byte at a time
 * and learns to predict the next one (many-to-many: a prediction per step).
 *
 *   byte -> embedding [V, E] -> LSTM (hidden H) -> dense -> V scores -> softmax
 *
 * V is the number of distinct bytes in the text. Training cuts random
 * windows of SEQ + 1 bytes from the text: the model reads the first SEQ and
 * is scored (softmax cross-entropy) on the next byte at every position. The
 * loss is printed per epoch, in nats and in bits per character.
 *
 * Sampling feeds the model its own output, one step at a time with the cell
 * API (ag_rnn_cell), drawing each byte from softmax(scores / temperature):
 * low temperatures pick the likeliest bytes, high ones take more risks.
 *
 * --save writes the weights (and the vocabulary, so that --load can check it
 * matches the text) with ag_save(); --load reads them back with ag_load()
 * before training, so `--load model.agp --epochs 0` only samples.
 *
 * Build and run:
 *   meson setup build && ninja -C build
 *   ./build/examples/char_lstm [options] [text file]
 * The text defaults to /usr/share/common-licenses/GPL-3 (Debian's copy of
 * the GPL). Options: --epochs N (10), --hidden H (128), --lr R (Adam's
 * learning rate, 0.01), --temperature T (0.7), --sample N (400 bytes),
 * --seed S, --save FILE, --load FILE.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agrad.h"

#define DEFAULT_TEXT "/usr/share/common-licenses/GPL-3"
enum { SEQ = 64, BATCH = 32, EMBED = 32 };

typedef struct options {
    const char *path, *save, *load;
    int epochs, hidden, sample;
    double temperature, lr;
    unsigned long seed;
} options;

typedef struct model {
    int vocab;
    unsigned char chars[256]; /* byte of each token */
    int token[256];           /* token of each byte, -1 if absent */
    ag_tensor *embed;         /* [V, EMBED] */
    ag_tensor *vocab_bytes;   /* [V]: the bytes, saved so that --load can check them */
    ag_rnn lstm;
    ag_dense head;            /* H -> V */
    ag_paramset *train;       /* what the optimizer updates */
    ag_paramset *file;        /* what --save and --load store: train + vocab_bytes */
} model;

static int usage(void)
{
    fprintf(stderr, "usage: char_lstm [--epochs N] [--hidden H] [--lr R] [--temperature T]\n"
                    "                 [--sample N] [--seed S] [--save FILE] [--load FILE] [text file]\n");
    return 2;
}

static int parse(int argc, char **argv, options *o)
{
    *o = (options){DEFAULT_TEXT, NULL, NULL, 10, 128, 400, 0.7, 1e-2, 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (a[0] != '-' || a[1] != '-') {
            o->path = a;
            continue;
        }
        if (!v)
            return -1;
        i++;
        if (!strcmp(a, "--epochs"))
            o->epochs = atoi(v);
        else if (!strcmp(a, "--hidden"))
            o->hidden = atoi(v);
        else if (!strcmp(a, "--temperature"))
            o->temperature = atof(v);
        else if (!strcmp(a, "--lr"))
            o->lr = atof(v);
        else if (!strcmp(a, "--sample"))
            o->sample = atoi(v);
        else if (!strcmp(a, "--seed"))
            o->seed = strtoul(v, NULL, 10);
        else if (!strcmp(a, "--save"))
            o->save = v;
        else if (!strcmp(a, "--load"))
            o->load = v;
        else
            return -1;
    }
    return o->epochs >= 0 && o->hidden > 0 && o->temperature > 0 && o->lr > 0 && o->sample >= 0 ? 0 : -1;
}

/* The whole file in memory; NULL (with a message) if it cannot be read. */
static unsigned char *read_text(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "char_lstm: cannot open %s", path);
        if (!strcmp(path, DEFAULT_TEXT))
            fprintf(stderr, " (the default text, shipped by Debian's base-files)");
        fprintf(stderr, ".\nGive any text file of a few tens of kilobytes or more: "
                        "char_lstm [options] FILE\n");
        return NULL;
    }
    size_t cap = 1 << 16, len = 0, got;
    unsigned char *buf = malloc(cap);
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            unsigned char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    fclose(f);
    if (!buf || len < SEQ + 2) {
        fprintf(stderr, "char_lstm: %s is %s\n", path, buf ? "too short" : "too large");
        free(buf);
        return NULL;
    }
    *n = len;
    return buf;
}

static int build(model *m, const unsigned char *text, size_t n, int hidden, ag_rng *g)
{
    memset(m, 0, sizeof *m);
    int seen[256] = {0};
    for (size_t i = 0; i < n; i++) seen[text[i]] = 1;
    for (int c = 0; c < 256; c++) {
        m->token[c] = seen[c] ? m->vocab : -1;
        if (seen[c])
            m->chars[m->vocab++] = (unsigned char)c;
    }
    size_t V = (size_t)m->vocab;
    m->embed = ag_param_new(AG_SHAPE(V, EMBED));
    m->vocab_bytes = ag_param_new(AG_SHAPE(V));
    m->train = ag_paramset_new();
    m->file = ag_paramset_new();
    if (!m->embed || !m->vocab_bytes || !m->train || !m->file ||
        ag_init_normal(m->embed, 0, 1, g) ||  /* as torch.nn.Embedding */
        ag_rnn_init(&m->lstm, AG_RNN_LSTM, EMBED, (size_t)hidden, 1, g) ||
        ag_dense_init(&m->head, (size_t)hidden, V, 1, g))
        return -1;
    for (size_t i = 0; i < V; i++) ag_data(m->vocab_bytes)[i] = m->chars[i];
    ag_paramset *sets[2] = {m->train, m->file};
    for (int k = 0; k < 2; k++)
        if (ag_paramset_add(sets[k], m->embed, "embed.weight") ||
            ag_rnn_params(&m->lstm, sets[k], "lstm") || ag_dense_params(&m->head, sets[k], "head"))
            return -1;
    return ag_paramset_add(m->file, m->vocab_bytes, "vocab");
}

static void destroy(model *m)
{
    ag_paramset_free(m->train);
    ag_paramset_free(m->file);
    ag_rnn_fini(&m->lstm);
    ag_dense_fini(&m->head);
    ag_param_free(m->embed);
    ag_param_free(m->vocab_bytes);
}

/* Mean cross-entropy of predicting text[s + 1 .. s + SEQ] from text[s .. s + SEQ - 1]
 * for BATCH random starts s. */
static ag_tensor *batch_loss(ag_tape *t, const model *m, const unsigned char *text, size_t n,
                             ag_rng *g)
{
    int64_t in[BATCH * SEQ];
    int32_t next[BATCH * SEQ];
    for (size_t b = 0; b < BATCH; b++) {
        size_t s = (size_t)ag_rng_below(g, n - SEQ);
        for (size_t i = 0; i < SEQ; i++) {
            in[b * SEQ + i] = m->token[text[s + i]];
            next[b * SEQ + i] = m->token[text[s + i + 1]];
        }
    }
    ag_tensor *x = ag_gather(t, m->embed, 0, in, BATCH * SEQ); /* [B T, E] */
    x = ag_reshape(t, x, AG_SHAPE(BATCH, SEQ, EMBED));
    ag_tensor *h = ag_rnn_forward(t, &m->lstm, x, NULL, NULL, NULL); /* [B, T, H] */
    h = ag_reshape(t, h, AG_SHAPE(BATCH * SEQ, m->lstm.hidden_size));
    return ag_softmax_cross_entropy(t, ag_dense_forward(t, &m->head, h), next);
}

/* Print len bytes sampled from the model, starting after a newline. */
static void sample(ag_tape *t, const model *m, int len, double temperature, ag_rng *g)
{
    size_t H = m->lstm.hidden_size;
    int was = ag_tape_set_recording(t, 0);
    double *p = malloc((size_t)m->vocab * sizeof *p);
    ag_real *h = calloc(H, sizeof *h), *c = calloc(H, sizeof *c); /* the state between steps */
    int64_t tok = m->token['\n'] >= 0 ? m->token['\n'] : 0;
    for (int i = 0; i < len && p && h && c; i++) {
        /* One step per tape: the state is copied out, so the tape stays small. */
        ag_tape_reset(t);
        ag_rnn_state s = {ag_tensor_wrap(t, h, AG_SHAPE(1, H)), ag_tensor_wrap(t, c, AG_SHAPE(1, H))};
        ag_tensor *x = ag_gather(t, m->embed, 0, &tok, 1); /* [1, E] */
        ag_tensor *scores = ag_dense_forward(t, &m->head, ag_rnn_cell(t, &m->lstm, 0, x, &s));
        if (ag_tape_status(t)) {
            fprintf(stderr, "char_lstm: %s\n", ag_tape_errmsg(t));
            break;
        }
        memcpy(h, ag_data(s.h), H * sizeof *h);
        memcpy(c, ag_data(s.c), H * sizeof *c);
        /* softmax(scores / temperature), then one draw */
        const ag_real *z = ag_data(scores);
        double top = z[0], total = 0, u = ag_rng_uniform(g);
        for (int k = 1; k < m->vocab; k++) top = fmax(top, z[k]);
        for (int k = 0; k < m->vocab; k++) total += p[k] = exp((z[k] - top) / temperature);
        tok = m->vocab - 1;
        for (int k = 0; k < m->vocab; k++)
            if ((u -= p[k] / total) < 0) {
                tok = k;
                break;
            }
        putchar(m->chars[tok]);
    }
    putchar('\n');
    free(p), free(h), free(c);
    ag_tape_set_recording(t, was);
}

int main(int argc, char **argv)
{
    options o;
    if (parse(argc, argv, &o))
        return usage();
    size_t n;
    unsigned char *text = read_text(o.path, &n);
    if (!text)
        return 1;
    model m;
    ag_rng g;
    ag_rng_seed(&g, o.seed);
    ag_tape *t = ag_tape_new();
    if (!t || build(&m, text, n, o.hidden, &g)) {
        fprintf(stderr, "char_lstm: %s\n", ag_last_errmsg());
        return 1;
    }
    printf("%s: %zu bytes, %d distinct; LSTM hidden %d, %zu parameters\n", o.path, n, m.vocab,
           o.hidden, ag_paramset_numel(m.train));
    if (o.load) {
        if (ag_load(o.load, m.file)) {
            fprintf(stderr, "char_lstm: %s\n", ag_last_errmsg());
            return 1;
        }
        for (int k = 0; k < m.vocab; k++)
            if (ag_data(m.vocab_bytes)[k] != m.chars[k]) {
                fprintf(stderr, "char_lstm: %s was trained on another character set\n", o.load);
                return 1;
            }
        printf("loaded %s\n", o.load);
    }

    ag_optim *opt = ag_optim_adam(m.train, &(ag_adam_opts){.lr = o.lr});
    size_t steps = n / (BATCH * SEQ) + 1; /* about one pass over the text per epoch */
    for (int epoch = 1; opt && epoch <= o.epochs; epoch++) {
        double total = 0;
        for (size_t s = 0; s < steps; s++) {
            ag_tape_reset(t);
            ag_tensor *loss = batch_loss(t, &m, text, n, &g);
            ag_optim_zero_grad(opt);
            if (ag_backward(t, loss) != AG_OK) {
                fprintf(stderr, "char_lstm: %s\n", ag_tape_errmsg(t));
                return 1;
            }
            ag_clip_grad_norm(m.train, 5.0);
            ag_optim_step(opt);
            total += (double)ag_data(loss)[0];
        }
        double nats = total / (double)steps;
        printf("epoch %3d  loss %.4f nats/char  (%.3f bits/char)\n", epoch, nats, nats / log(2));
        fflush(stdout);
    }
    if (o.save) {
        if (ag_save(o.save, m.file)) {
            fprintf(stderr, "char_lstm: %s\n", ag_last_errmsg());
            return 1;
        }
        printf("saved %s\n", o.save);
    }
    printf("--- sample, temperature %.2f ---\n", o.temperature);
    sample(t, &m, o.sample, o.temperature, &g);
    ag_optim_free(opt);
    destroy(&m);
    ag_tape_free(t);
    free(text);
    return 0;
}
