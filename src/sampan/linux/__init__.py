"""The only ctypes user: system calls (syscalls.Syscalls, and RecordingSyscalls for tests),
capabilities (caps), safe path resolution inside a root (safepath), seccomp install (seccomp)."""
