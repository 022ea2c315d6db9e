"""A seccomp filter for the sandbox: the few system calls a submission has no use for.

bubblewrap applies no filter of its own. Sandbox users are reused from one submission to the
next, and the kernel's key store is kept per user: a key added by one submission
(``add_key``) could be read by the next (issue found by the red team). The filter makes
these calls fail with EPERM, together with others that only widen what student code can
reach in the host's kernel (``bpf``, ``perf_event_open``, ``userfaultfd``). Calls through
another ABI (32-bit ``int 0x80``, x32) are refused whole.

The program is classic BPF, written out here so that no library is needed; bubblewrap reads
it from a descriptor (``--seccomp``).
"""

from __future__ import annotations

import errno
import platform
import struct

_LD_W_ABS, _JEQ, _JGE, _RET = 0x20, 0x15, 0x35, 0x06
_ALLOW = 0x7FFF0000
_DENY = 0x00050000 | errno.EPERM  # SECCOMP_RET_ERRNO | EPERM
_X32_BIT = 0x40000000

# (audit arch, {name: number}) per machine
_ARCHES = {
    "x86_64": (
        0xC000003E,
        {
            "add_key": 248,
            "request_key": 249,
            "keyctl": 250,
            "perf_event_open": 298,
            "bpf": 321,
            "userfaultfd": 323,
        },
    ),
    "aarch64": (
        0xC00000B7,
        {
            "add_key": 217,
            "request_key": 218,
            "keyctl": 219,
            "perf_event_open": 241,
            "bpf": 280,
            "userfaultfd": 282,
        },
    ),
}
DENIED = ("add_key", "request_key", "keyctl", "perf_event_open", "bpf", "userfaultfd")


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k)


def program(machine: str | None = None) -> bytes | None:
    """The filter for this machine, or None where we do not know its system call numbers."""
    arch = _ARCHES.get(machine or platform.machine())
    if arch is None:
        return None
    audit, numbers = arch
    calls = [numbers[name] for name in DENIED]
    deny_at = 6 + len(calls)  # index of the final "deny": after 5 checks, one per call, "allow"
    ops = [
        _op(_LD_W_ABS, 4),  # seccomp_data.arch
        _op(_JEQ, audit, 1, 0),  # our ABI: go on; any other: deny
        _op(_RET, _DENY),
        _op(_LD_W_ABS, 0),  # seccomp_data.nr
        _op(_JGE, _X32_BIT, deny_at - 5, 0),  # x32 numbers
    ]
    for i, number in enumerate(calls):
        ops.append(_op(_JEQ, number, deny_at - (6 + i), 0))
    ops += [_op(_RET, _ALLOW), _op(_RET, _DENY)]
    return b"".join(ops)
