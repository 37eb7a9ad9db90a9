/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the profile loader (control/profile.c) on any file.
 *
 * The input is written to in.conf in a scratch directory that also holds
 * the shipped profiles (every .conf of profiles/, symlinked), so `include =
 * "base.conf";` layers as it does for a real profile. Lines of the input
 * that start with "//set " (a libconfig comment) are also applied as --set
 * assignments after the load. What must hold, or the target aborts:
 *   1. load, set, validate, dump and core_config return (ASan, UBSan and the
 *      loader's own RG_ASSERTs watch them), and every error message is a
 *      NUL-terminated string;
 *   2. rg_profile_set() changes nothing when it fails (profile.h, invariant 4);
 *   3. a profile that validates dumps to a file that loads back to the same
 *      values and validates again (rg_profile_dump's contract).
 * Inputs naming /dev, /proc or /sys are skipped: an include of /dev/zero
 * would only hang the loader, which trusts its operator's paths.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "profile.h"

#ifndef RG_FUZZ_PROFILES_DIR
#error "RG_FUZZ_PROFILES_DIR: the shipped profiles (tests/fuzz/meson.build sets it)"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char dir[64], in_path[96], dump_path[96];
static struct rg_profile p, q, saved;

static void
cleanup(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	DIR *d;
	struct dirent *e;
	char from[512], to[512];

	(void)argc, (void)argv;
	snprintf(dir, sizeof(dir), "/tmp/rg-fuzz-profile.XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	atexit(cleanup);
	d = opendir(RG_FUZZ_PROFILES_DIR);
	if (d == NULL)
		abort();
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);

		if (n < 5 || strcmp(e->d_name + n - 5, ".conf") != 0)
			continue;
		snprintf(from, sizeof(from), "%s/%s", RG_FUZZ_PROFILES_DIR, e->d_name);
		snprintf(to, sizeof(to), "%s/%s", dir, e->d_name);
		if (symlink(from, to) != 0)
			abort();
	}
	closedir(d);
	snprintf(in_path, sizeof(in_path), "%s/in.conf", dir);
	snprintf(dump_path, sizeof(dump_path), "%s/dump.conf", dir);
	return 0;
}

static void
check_msg(const char *err, size_t len)
{
	if (memchr(err, '\0', len) == NULL)
		abort();
}

static int
write_file(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	return fclose(f);
}

/* Property 2, for each "//set ASSIGNMENT" line. */
static void
apply_sets(const uint8_t *data, size_t size)
{
	char line[512], err[512];
	size_t i = 0;

	while (i < size) {
		const uint8_t *nl = memchr(data + i, '\n', size - i);
		size_t n = (nl != NULL ? (size_t)(nl - data) : size) - i;

		if (n > 6 && n - 6 < sizeof(line) && memcmp(data + i, "//set ", 6) == 0) {
			memcpy(line, data + i + 6, n - 6);
			line[n - 6] = '\0';
			saved = p;
			err[0] = '\0';
			if (rg_profile_set(&p, line, err, sizeof(err)) != 0) {
				check_msg(err, sizeof(err));
				if (memcmp(&saved, &p, sizeof(p)) != 0)
					abort();
			}
		}
		i += n + 1;
	}
}

/* Property 3: dump, load the dump back, compare every value (not where it came from). */
static void
roundtrip(void)
{
	char err[512];
	FILE *f = fopen(dump_path, "w");

	if (f == NULL)
		abort();
	rg_profile_dump(&p, f);
	if (fclose(f) != 0)
		abort();
	if (rg_profile_load(dump_path, &q, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_profile: the dump does not load back: %s\n", err);
		abort();
	}
	if (memcmp(&p, &q, offsetof(struct rg_profile, src)) != 0) {
		fprintf(stderr, "fuzz_profile: the dump loads back to other values\n");
		abort();
	}
	if (rg_profile_validate(&q, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_profile: the dump does not validate: %s\n", err);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const skip[] = { "/dev", "/proc", "/sys" };
	struct rg_core_config cfg;
	char err[512];

	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (memmem(data, size, skip[i], strlen(skip[i])) != NULL)
			return 0;
	if (write_file(in_path, data, size) != 0)
		return 0;
	err[0] = '\0';
	if (rg_profile_load(in_path, &p, err, sizeof(err)) != 0) {
		check_msg(err, sizeof(err));
		return 0;
	}
	apply_sets(data, size);
	if (rg_profile_validate(&p, err, sizeof(err)) != 0) {
		check_msg(err, sizeof(err));
		return 0;
	}
	rg_profile_core_config(&p, &cfg);
	for (uint32_t i = 0; i < p.npeers; i++)
		if (rg_profile_peer_lanes(&p, i) < 1)
			abort();
	roundtrip();
	return 0;
}
