//! The floor under fan-out latency on this machine: no server, no WebSocket, no JSON.
//!
//! One thread pinned to cpu 1 writes a 120-byte frame to each of N connected loopback TCP
//! sockets (a burst, as a server does when one match changes and N clients follow it); one
//! thread pinned to cpu 0 reads them all through epoll, as a load generator does. Per burst it
//! records each frame's send-start-to-receive time, and the writer's cpu time. Two ways of
//! writing alternate: one `send(MSG_DONTWAIT)` per socket, and one io_uring submission of N
//! `IORING_OP_SEND`s (MSG_DONTWAIT, reaped at once): what batching through io_uring can save.
//!
//! Usage: `burst-floor [N] [BURSTS]` (defaults 1000 40). Needs `ulimit -n` above 2N + 10.

use std::{
    io::Read,
    net::{TcpListener, TcpStream},
    os::fd::{AsRawFd, RawFd},
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

const FRAME: [u8; 120] = [b'x'; 120];
const MODES: [&str; 6] = ["send", "uring", "send", "uring", "send", "uring"];

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let n = args.next().and_then(Result::ok).unwrap_or(1000);
    let bursts = args.next().and_then(Result::ok).unwrap_or(40).max(1);
    let (readers, writers) = socket_pairs(n);
    let epoch = Instant::now();
    let burst_at = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let received = Arc::new(AtomicUsize::new(0));
    {
        let (burst_at, latencies, received) =
            (burst_at.clone(), latencies.clone(), received.clone());
        std::thread::spawn(move || read_all(readers, epoch, &burst_at, &latencies, &received));
    }
    pin(1);
    let fds: Vec<RawFd> = writers.iter().map(AsRawFd::as_raw_fd).collect();
    let mut ring = io_uring::IoUring::new(4096).expect("io_uring: check ulimit -l");
    println!("{n} sockets, {bursts} bursts per row, writer on cpu 1, reader on cpu 0");
    for mode in MODES {
        latencies.lock().expect("reader alive").clear();
        let mut cpu = Duration::ZERO;
        for _ in 0..bursts {
            received.store(0, Ordering::Release);
            burst_at.store(epoch.elapsed().as_nanos() as u64, Ordering::Release);
            let before = thread_cpu();
            if mode == "send" {
                send_each(&fds);
            } else {
                send_batched(&mut ring, &fds);
            }
            cpu += thread_cpu() - before;
            let deadline = Instant::now() + Duration::from_secs(5);
            while received.load(Ordering::Acquire) < n && Instant::now() < deadline {
                std::thread::sleep(Duration::from_micros(200));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut v = latencies.lock().expect("reader alive").clone();
        v.sort_unstable();
        let q = |p: f64| v.get(((v.len() as f64 * p) as usize).min(v.len().saturating_sub(1)));
        let ms = |x: Option<&u64>| x.map_or(f64::NAN, |&x| x as f64 / 1e6);
        println!(
            "{mode:5}  writer cpu per burst {:5.2} ms ({:4.2} µs/frame)  receive p50 {:5.2} p99 {:5.2} max {:5.2} ms  ({} frames)",
            cpu.as_secs_f64() * 1e3 / bursts as f64,
            cpu.as_secs_f64() * 1e6 / (bursts * n) as f64,
            ms(q(0.5)),
            ms(q(0.99)),
            ms(v.last()),
            v.len()
        );
    }
}

/// N connected pairs: (client ends, to read; accepted ends, to write, with TCP_NODELAY).
fn socket_pairs(n: usize) -> (Vec<TcpStream>, Vec<TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("bound");
    (0..n)
        .map(|_| {
            let client = TcpStream::connect(addr).expect("connect: raise ulimit -n");
            let (server, _) = listener.accept().expect("accept");
            server.set_nodelay(true).expect("nodelay");
            client.set_nonblocking(true).expect("nonblocking");
            (client, server)
        })
        .unzip()
}

fn send_each(fds: &[RawFd]) {
    for &fd in fds {
        // SAFETY: fd is an open socket owned by `writers`; FRAME outlives the call.
        let sent =
            unsafe { libc::send(fd, FRAME.as_ptr().cast(), FRAME.len(), libc::MSG_DONTWAIT) };
        assert_eq!(sent, FRAME.len() as isize, "a fresh socket takes one frame");
    }
}

fn send_batched(ring: &mut io_uring::IoUring, fds: &[RawFd]) {
    for chunk in fds.chunks(1024) {
        {
            let mut sq = ring.submission();
            for &fd in chunk {
                let send = io_uring::opcode::Send::new(
                    io_uring::types::Fd(fd),
                    FRAME.as_ptr(),
                    FRAME.len() as u32,
                )
                .flags(libc::MSG_DONTWAIT)
                .build();
                // SAFETY: FRAME is static and the fd stays open until the completion is reaped
                // below; the ring has 4096 entries and a chunk at most 1024.
                unsafe { sq.push(&send).expect("ring has room") };
            }
        }
        ring.submit_and_wait(chunk.len()).expect("io_uring_enter");
        for cqe in ring.completion() {
            assert_eq!(
                cqe.result(),
                FRAME.len() as i32,
                "a fresh socket takes one frame"
            );
        }
    }
}

fn read_all(
    readers: Vec<TcpStream>,
    epoch: Instant,
    burst_at: &AtomicU64,
    latencies: &Mutex<Vec<u64>>,
    received: &AtomicUsize,
) {
    pin(0);
    // SAFETY: plain epoll calls on fds `readers` owns for the thread's life.
    let ep = unsafe { libc::epoll_create1(0) };
    for (i, r) in readers.iter().enumerate() {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: i as u64,
        };
        unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, r.as_raw_fd(), &mut ev) };
    }
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
    let mut buf = [0u8; 4096];
    let mut seen = Vec::new();
    loop {
        let k = unsafe { libc::epoll_wait(ep, events.as_mut_ptr(), 256, 1000) };
        for e in &events[..usize::try_from(k).unwrap_or(0)] {
            let mut r = &readers[e.u64 as usize];
            while let Ok(m) = r.read(&mut buf) {
                if m == 0 {
                    break;
                }
                let now = epoch.elapsed().as_nanos() as u64;
                seen.push(now.saturating_sub(burst_at.load(Ordering::Acquire)));
                received.fetch_add(m / FRAME.len(), Ordering::Release);
            }
        }
        if !seen.is_empty() {
            latencies.lock().expect("writer alive").append(&mut seen);
        }
    }
}

fn pin(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
