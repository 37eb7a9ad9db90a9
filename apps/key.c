/* SPDX-License-Identifier: Apache-2.0 */
/*
 * repgate-key: identity keys for gateways and clients (DESIGN §4.12), the
 * `repgatectl keygen` and `repgatectl pubkey` commands.
 *
 *   repgate-key keygen [FILE]   a new private key: into FILE (created, mode 0600; an existing
 *                               FILE is refused), or to stdout
 *   repgate-key pubkey [FILE]   the public key of the private key in FILE (mode 0600), or on stdin
 *
 * Keys are 32 bytes in base64 (44 characters), one per line, as WireGuard's.
 * Exit status: 0, 1 on a failure (said on stderr), 64 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys.h"

#define EXIT_USAGE 64

static int
usage(void)
{
	fprintf(stderr, "usage: repgate-key keygen [FILE]   a new private key (FILE: mode 0600)\n"
			"       repgate-key pubkey [FILE]   its public key (FILE, or stdin)\n");
	return EXIT_USAGE;
}

static int
keygen(const char *path)
{
	uint8_t priv[RG_KEY_BYTES];
	char text[RG_KEY_B64_CHARS + 2];
	int fd = STDOUT_FILENO, rc = 0;

	if (rg_key_generate(priv) != 0) {
		fprintf(stderr, "repgate-key: no key: libcrypto failed\n");
		return 1;
	}
	rg_key_to_b64(priv, text);
	memset(priv, 0, sizeof(priv));
	strcat(text, "\n");
	if (path != NULL) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			fprintf(stderr, "repgate-key: %s: %s%s\n", path, strerror(errno),
				errno == EEXIST ? " (a key is not overwritten)" : "");
			return 1;
		}
	}
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text) || (path && fsync(fd) != 0)) {
		fprintf(stderr, "repgate-key: %s: %s\n", path ? path : "stdout", strerror(errno));
		rc = 1;
	}
	memset(text, 0, sizeof(text));
	if (path != NULL)
		close(fd);
	return rc;
}

static int
pubkey(const char *path)
{
	uint8_t priv[RG_KEY_BYTES], pub[RG_KEY_BYTES];
	char text[128], err[512];

	if (path != NULL) {
		if (rg_key_load_file(path, priv, err, sizeof(err)) != 0) {
			fprintf(stderr, "repgate-key: %s\n", err);
			return 1;
		}
	} else {
		if (fgets(text, sizeof(text), stdin) == NULL) {
			fprintf(stderr, "repgate-key: no private key on stdin\n");
			return 1;
		}
		text[strcspn(text, "\r\n")] = '\0';
		if (rg_key_from_b64(text, priv) != 0) {
			fprintf(stderr, "repgate-key: stdin: not a private key (44 characters of "
					"base64, as keygen writes)\n");
			return 1;
		}
		memset(text, 0, sizeof(text));
	}
	if (rg_key_public(priv, pub) != 0) {
		fprintf(stderr, "repgate-key: libcrypto failed\n");
		return 1;
	}
	memset(priv, 0, sizeof(priv));
	rg_key_to_b64(pub, text);
	printf("%s\n", text);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2 || argc > 3)
		return usage();
	if (strcmp(argv[1], "keygen") == 0)
		return keygen(argc == 3 ? argv[2] : NULL);
	if (strcmp(argv[1], "pubkey") == 0)
		return pubkey(argc == 3 ? argv[2] : NULL);
	return usage();
}
