// SPDX-License-Identifier: Apache-2.0

//go:build !repgate_flags

package repgate

// After `meson install`, librepgate.pc names the header and the library. Build with
// `-tags repgate_flags` to take them from CGO_CFLAGS and CGO_LDFLAGS alone instead (a meson
// build tree: see README.md).

// #cgo pkg-config: librepgate
import "C"
