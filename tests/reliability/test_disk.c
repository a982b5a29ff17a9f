/* No data lost on disk: ag_save() into a full, size-limited or read-only
 * location fails with AG_EIO and a message naming the file, leaves the
 * previous file byte for byte as it was and no temporary file behind; a
 * process killed part-way through a save never leaves a corrupted file
 * under the final name.
 *
 * A full disk is simulated two ways: RLIMIT_FSIZE (writes past the limit
 * fail with EFBIG, or, with SIGXFSZ at its default, kill the process in the
 * middle of the write), which needs no privilege; and, where the test may
 * mount file systems (root in a container), a real 64 KiB tmpfs (ENOSPC)
 * and a read-only remount of it (EROFS, which even root cannot write). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common.h"

static char dir[64], path[96];
static ag_tensor *P[2];
static ag_paramset *PS;

/* A model of n values per parameter filled from seed. */
static void model(size_t n, unsigned seed)
{
    ag_paramset_free(PS);
    for (int i = 0; i < 2; i++) ag_param_free(P[i]);
    P[0] = param_rand(AG_SHAPE(n), -1, 1, seed);
    P[1] = param_rand(AG_SHAPE(3), -1, 1, seed + 1);
    PS = ag_paramset_new();
    cr_assert_eq(ag_paramset_add(PS, P[0], "w"), AG_OK);
    cr_assert_eq(ag_paramset_add(PS, P[1], "b"), AG_OK);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/agrad-disk-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/model.agp", dir);
}

static void teardown(void)
{
    ag_paramset_free(PS);
    for (int i = 0; i < 2; i++) ag_param_free(P[i]);
    PS = NULL;
    P[0] = P[1] = NULL;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        char p[400];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.')
            unlink(p);
    }
    if (d)
        closedir(d);
    umount(dir); /* when a test mounted a tmpfs there */
    rmdir(dir);
}

TestSuite(disk, .init = setup, .fini = teardown);

static size_t read_all(const char *p, unsigned char *buf, size_t cap)
{
    FILE *f = fopen(p, "rb");
    cr_assert_not_null(f, "%s: %s", p, strerror(errno));
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

/* Number of entries in dir besides . and .. */
static int entries(void)
{
    int n = 0;
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static unsigned char old_bytes[1 << 16];
static size_t old_len;

/* Save a small model as the previous file and remember its bytes. */
static void save_old(void)
{
    model(8, 1);
    cr_assert_eq(ag_save(path, PS), AG_OK, "%s", ag_last_errmsg());
    old_len = read_all(path, old_bytes, sizeof old_bytes);
}

/* The previous file is intact (same bytes, loads) and nothing else is left. */
static void assert_old_intact(const char *what)
{
    static unsigned char now[1 << 16];
    size_t n = read_all(path, now, sizeof now);
    cr_assert(n == old_len && memcmp(now, old_bytes, n) == 0, "%s: the previous file changed", what);
    cr_assert_eq(entries(), 1, "%s: %d files in the directory (a temporary file left?)", what,
                 entries());
    model(8, 99);
    cr_assert_eq(ag_load(path, PS), AG_OK, "%s: %s", what, ag_last_errmsg());
}

static void expect_save_fails(const char *what)
{
    int rc = ag_save(path, PS);
    cr_assert_eq(rc, AG_EIO, "%s: status %d (%s)", what, rc, ag_last_errmsg());
    cr_assert(strstr(ag_last_errmsg(), path) != NULL, "%s: message '%s' does not name the file",
              what, ag_last_errmsg());
}

Test(disk, file_size_limit_fails_cleanly)
{
    save_old();
    model(20000, 5); /* 80 KB of values */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    static const rlim_t limits[] = {0, 1, 27, 100, 4096, 65536, 80000};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        lim = old;
        lim.rlim_cur = limits[i];
        cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
        char what[64];
        snprintf(what, sizeof what, "file size limit %lu", (unsigned long)limits[i]);
        expect_save_fails(what);
        cr_assert(strstr(ag_last_errmsg(), "File too large") != NULL, "%s: %s", what,
                  ag_last_errmsg());
        setrlimit(RLIMIT_FSIZE, &old);
        assert_old_intact(what);
        model(20000, 5);
    }
}

/* A child saves a bigger model and is killed by SIGXFSZ when the file
 * reaches limit bytes (or completes when the file fits). The final name
 * then holds the old file or the complete new one, never anything else. */
Test(disk, killed_part_way_never_corrupts)
{
    save_old();
    static unsigned char new_bytes[1 << 17];
    char newpath[128];
    snprintf(newpath, sizeof newpath, "%s.reference", dir);
    model(20000, 5);
    cr_assert_eq(ag_save(newpath, PS), AG_OK);
    size_t new_len = read_all(newpath, new_bytes, sizeof new_bytes);
    unlink(newpath);
    cr_assert_gt(new_len, 80000);
    static const rlim_t limits[] = {0, 1, 28, 4096, 40000, 80000, 80038, 1 << 20};
    int killed = 0;
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            signal(SIGXFSZ, SIG_DFL);
            struct rlimit lim;
            getrlimit(RLIMIT_FSIZE, &lim);
            lim.rlim_cur = limits[i];
            setrlimit(RLIMIT_FSIZE, &lim);
            _exit(ag_save(path, PS) == AG_OK ? 0 : 1);
        }
        int st;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        static unsigned char now[1 << 17];
        size_t n = read_all(path, now, sizeof now);
        int is_old = n == old_len && memcmp(now, old_bytes, n) == 0;
        int is_new = n == new_len && memcmp(now, new_bytes, n) == 0;
        cr_assert(is_old || is_new, "limit %lu: %zu bytes under the final name, neither file",
                  (unsigned long)limits[i], n);
        if (WIFSIGNALED(st)) {
            killed++;
            cr_assert(is_old, "limit %lu: killed, yet the file changed", (unsigned long)limits[i]);
        } else {
            cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0 && is_new, "limit %lu: status %d",
                      (unsigned long)limits[i], st);
        }
        /* a killed save may leave its temporary file; never the final name */
        DIR *d = opendir(dir);
        for (struct dirent *e; (e = readdir(d));) {
            if (e->d_name[0] == '.' || !strcmp(e->d_name, "model.agp"))
                continue;
            cr_assert(strstr(e->d_name, "model.agp.tmp-") == e->d_name, "stray file %s", e->d_name);
            char p[400];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
        if (is_new) { /* back to the old file for the next limit */
            FILE *f = fopen(path, "wb");
            cr_assert_eq(fwrite(old_bytes, 1, old_len, f), old_len);
            fclose(f);
        }
    }
    cr_assert_geq(killed, 5, "only %d of the saves were killed part-way", killed);
}

Test(disk, target_is_a_directory)
{
    save_old();
    char sub[128];
    snprintf(sub, sizeof sub, "%s/sub.agp", dir);
    cr_assert_eq(mkdir(sub, 0755), 0);
    char keep[96];
    snprintf(keep, sizeof keep, "%s", path);
    snprintf(path, sizeof path, "%s", sub);
    expect_save_fails("target is a directory");
    snprintf(path, sizeof path, "%s", keep);
    rmdir(sub);
    assert_old_intact("target is a directory");
}

Test(disk, read_only_directory_without_privilege)
{
    if (geteuid() == 0 && rmdir(dir) == 0) /* a skipped test does not run .fini */
        cr_skip_test("root writes into a mode 0555 directory (see read_only_file_system)");
    save_old();
    chmod(dir, 0555);
    expect_save_fails("read-only directory");
    chmod(dir, 0755);
    assert_old_intact("read-only directory");
}

/* Mount a 64 KiB tmpfs on dir; skip the test where that is not allowed. */
static void mount_small_tmpfs(void)
{
    if (mount("agrad-test", dir, "tmpfs", 0, "size=64k,mode=0755") != 0 && rmdir(dir) == 0)
        cr_skip_test("cannot mount a tmpfs here (%s)", strerror(errno));
}

Test(disk, full_file_system)
{
    mount_small_tmpfs();
    save_old();
    model(20000, 5); /* 80 KB: more than the file system holds */
    expect_save_fails("full file system");
    cr_assert(strstr(ag_last_errmsg(), "No space left") != NULL, "%s", ag_last_errmsg());
    assert_old_intact("full file system");
}

Test(disk, read_only_file_system)
{
    mount_small_tmpfs();
    save_old();
    cr_assert_eq(mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL), 0, "%s", strerror(errno));
    model(8, 7);
    expect_save_fails("read-only file system");
    cr_assert(strstr(ag_last_errmsg(), "Read-only") != NULL, "%s", ag_last_errmsg());
    assert_old_intact("read-only file system");
}
