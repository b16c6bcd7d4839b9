# Sourced by the other scripts: raise RLIMIT_MEMLOCK for glommio's io_uring rings.
# glommio refuses to start below 512 KiB; 8 MiB leaves room for registered buffers.
want_kib=8192
cur=$(ulimit -l)
if [ "$cur" != unlimited ] && [ "$cur" -lt "$want_kib" ]; then
  if ! ulimit -l "$want_kib" 2>/dev/null; then
    if [ "$cur" -lt 512 ]; then
      echo "RLIMIT_MEMLOCK is ${cur} KiB and cannot be raised to 512 KiB here." >&2
      echo "Raise the hard limit (memlock in /etc/security/limits.conf, LimitMEMLOCK= in systemd," >&2
      echo "or docker run --ulimit memlock=8388608) and retry." >&2
      exit 1
    fi
  fi
fi
