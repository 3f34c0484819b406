#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check suite: the guest driver's tests on both kernels (owner: guest driver).
exec "$(dirname "${BASH_SOURCE[0]}")/../guest/run.sh"
