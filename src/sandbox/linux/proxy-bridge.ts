/**
 * The proxy bridge: the one way out of a run's network namespace when it has an allowlist. A
 * short Perl program, started by the ready stage (so it is inside the run's cgroup and PID
 * namespace), listens on `127.0.0.1:PROXY_PORT` inside the namespace, double-forks a relay that
 * copies bytes between each TCP connection and the server's proxy on a Unix socket in the run's
 * temp dir (bound into the run, like sandbox-runtime's socat bridge), and execs the command.
 * Unix sockets are file system objects: they cross network namespaces, IP does not. The relay
 * is one process with non-blocking sockets and 64 KiB per direction, so a slow side stalls only
 * its own connection. perl-base is Essential on Debian and Ubuntu; `socat` is not. The relay
 * connects from inside the socket's directory by its bare name: `sun_path` holds 107 bytes and
 * a run's temp dir may be deeper than that.
 */

/** The proxy's port inside every run (the namespace is the run's own, so no clash). */
export const PROXY_PORT = 3128;

/** Longest Unix socket path (`sun_path` is 108 bytes with its NUL). */
export const SOCKET_PATH_BYTES_MAX = 107;

/** The proxy socket's name in the run's temp dir. */
export const PROXY_SOCKET_NAME = "proxy.sock";

/**
 * argv: port, socket directory, `--`, the command. A failure before the command starts exits 125
 * with a `vltair-proxy-bridge:` line on stderr.
 */
export const BRIDGE_SCRIPT = `
use Socket; use Fcntl; use Errno qw(EAGAIN EINTR);
my ($port, $dir) = splice(@ARGV, 0, 2); shift @ARGV;
sub fail { print STDERR "vltair-proxy-bridge: @_: $!\\n"; exit 125 }
socket(my $l, PF_INET, SOCK_STREAM, 0) or fail('socket');
setsockopt($l, SOL_SOCKET, SO_REUSEADDR, 1);
bind($l, sockaddr_in($port, INADDR_LOOPBACK)) or fail("bind 127.0.0.1:$port");
listen($l, 128) or fail('listen');
my $mid = fork; fail('fork') unless defined $mid;
if ($mid) { waitpid($mid, 0); close $l; exec { $ARGV[0] } @ARGV;
  print STDERR "vltair: exec $ARGV[0]: $!\\n"; exit 127 }
my $relay = fork; exit 0 if !defined $relay || $relay;
open(STDIN, '<', '/dev/null'); open(STDOUT, '>', '/dev/null'); open(STDERR, '>', '/dev/null');
$SIG{PIPE} = 'IGNORE'; chdir $dir or exit 1;
sub nb { fcntl($_[0], F_SETFL, fcntl($_[0], F_GETFL, 0) | O_NONBLOCK) }
nb($l);
my (%fh, %peer, %out, %eof);
sub drop { my @both = ($_[0], $peer{$_[0]}); for my $x (@both) { next unless defined $x && $fh{$x};
  close $fh{$x}; delete $fh{$x}; delete $peer{$x}; delete $out{$x}; delete $eof{$x} } }
sub pair { my $c = shift; socket(my $u, PF_UNIX, SOCK_STREAM, 0) or return close $c;
  connect($u, pack_sockaddr_un('${PROXY_SOCKET_NAME}')) or return close $c; nb($c); nb($u);
  my ($a, $b) = (fileno $c, fileno $u); @fh{$a, $b} = ($c, $u); @peer{$a, $b} = ($b, $a);
  @out{$a, $b} = ('', ''); @eof{$a, $b} = (0, 0) }
while (1) {
  my ($r, $w) = ('', ''); vec($r, fileno $l, 1) = 1;
  for my $n (keys %fh) { vec($r, $n, 1) = 1 if !$eof{$n} && length($out{$peer{$n}}) < 65536;
    vec($w, $n, 1) = 1 if length $out{$n} }
  next if select($r, $w, undef, undef) < 0;
  if (vec($r, fileno $l, 1)) { while (1) { my $c; last unless accept($c, $l); pair($c) } }
  my @ready = keys %fh;
  for my $n (@ready) {
    next unless $fh{$n};
    if (vec($w, $n, 1) && length $out{$n}) { my $k = syswrite($fh{$n}, $out{$n});
      if (defined $k) { substr($out{$n}, 0, $k, '') } elsif ($! != EAGAIN && $! != EINTR) { drop($n); next } }
    if (vec($r, $n, 1) && !$eof{$n}) { my $k = sysread($fh{$n}, my $buf, 65536);
      if ($k) { $out{$peer{$n}} .= $buf } elsif (defined $k) { $eof{$n} = 1 }
      elsif ($! != EAGAIN && $! != EINTR) { drop($n); next } } }
  # Half-close once everything read before the end went out, after all I/O of this round.
  my @open = keys %fh;
  for my $n (@open) { next unless $fh{$n}; my $p = $peer{$n};
    if ($eof{$n} == 1 && !length $out{$p}) { shutdown($fh{$p}, 1); $eof{$n} = 2 }
    drop($n) if $eof{$n} == 2 && $eof{$p} == 2 } }
`;

/**
 * The bridge stage before the command.
 *
 * @example
 * ```ts
 * bridgeArgv("/usr/bin/perl", "/tmp/vltair-ab-1");
 * // ["/usr/bin/perl", "-e", BRIDGE_SCRIPT, "3128", "/tmp/vltair-ab-1", "--"]
 * ```
 */
export function bridgeArgv(perl: string, socketDir: string): string[] {
  return [perl, "-e", BRIDGE_SCRIPT, String(PROXY_PORT), socketDir, "--"];
}

/** `HTTP_PROXY` and friends for a run whose bridge listens on {@link PROXY_PORT}. */
export function proxyEnv(): Record<string, string> {
  const url = `http://127.0.0.1:${PROXY_PORT}`;
  return { HTTP_PROXY: url, HTTPS_PROXY: url, http_proxy: url, https_proxy: url };
}
