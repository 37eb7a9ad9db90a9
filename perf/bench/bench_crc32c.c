/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crc32c/: the packet integrity tag (crc32c.h) over one buffer of arg bytes,
 * 64 B … 64 KiB, for both paths: hw (SSE4.2 crc32, what rg_crc32c() runs on
 * our hosts) and sw (slicing-by-8, the fallback). op = buffer; bytes → GB/s.
 * Each call chains on the previous CRC, so no two calls can overlap or be
 * folded away.
 */
#include "bench.h"
#include "common.h"
#include "crc32c.h"

#define BUF_BYTES (64 * 1024)

typedef uint32_t (*crc_fn)(uint32_t crc, const void *buf, size_t len);

static const int64_t sizes[] = { 64, 256, 1024, 4096, 16384, 65536 };
static uint8_t buf[BUF_BYTES] __attribute__((aligned(64)));

static void
bench_crc(struct rg_bench_state *st, const void *ctx)
{
	crc_fn fn = *(const crc_fn *)ctx;
	size_t len = (size_t)rg_bench_arg(st, 0);
	uint32_t crc = RG_CRC32C_INIT;

	if (fn == rg_crc32c_hw && !rg_crc32c_hw_available()) {
		rg_bench_skip_with_error(st, "no SSE4.2 on this CPU");
		return;
	}
	while (rg_bench_keep_running(st))
		crc = fn(crc, buf, len);
	rg_bench_do_not_optimize_u64(crc);
	rg_bench_set_items(st, rg_bench_iterations(st));
	rg_bench_set_bytes(st, rg_bench_iterations(st) * (int64_t)len);
	rg_bench_set_label(st, "buffer");
}

void
rg_bench_crc32c_register(void)
{
	static const crc_fn hw = rg_crc32c_hw, sw = rg_crc32c_sw;
	uint64_t s = 11;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rg_splitmix64(&s);
	rg_bench_register("crc32c/hw", bench_crc, &hw, sizes, (int)RG_ARRAY_SIZE(sizes));
	rg_bench_register("crc32c/sw", bench_crc, &sw, sizes, (int)RG_ARRAY_SIZE(sizes));
}
