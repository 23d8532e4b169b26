/**
 * The run's init: a short Perl program that is PID 1 of the run's PID namespace, so that the
 * command never is (a PID 1 ignores every signal it has no handler for, `kill -9 $$` included,
 * and the kernel's SIGXCPU of RLIMIT_CPU). It forks the command, forwards TERM/INT/HUP/QUIT/
 * USR1/USR2 to it, reaps every orphan, and when the command ends writes its raw wait status on
 * fd 3 (`X<status>\n`, after the ready stage's `R`) before exiting with the shell-style code:
 * the runner learns "killed by SIGKILL" apart from "exit 137", which no wrapper passes on.
 *
 * Without bubblewrap it also builds the run's filesystem view first (see mount-plan.ts): it runs
 * in a fresh user + mount namespace (unshare), binds `/` read-only (recursively, one
 * `mount_setattr`), masks the hidden paths, binds the writable roots, mounts a private /tmp and
 * a minimal /dev, pivots into the new root, and drops every capability before the command runs.
 * Perl (perl-base is Essential on Debian/Ubuntu) is the only interpreter here that makes raw
 * system calls without a compiler; the calls whose numbers differ per architecture are passed
 * in (table below), the newer ones (mount_setattr) have one number everywhere.
 */

/** System call numbers the init needs, per `process.arch`; absent = mount stage unavailable. */
export interface InitSyscalls {
  mount: number;
  umount2: number;
  pivotRoot: number;
  prctl: number;
}

/** x86-64 has its own table; arm64 and riscv64 use the generic one (asm-generic/unistd.h). */
const SYSCALLS: Readonly<Record<string, InitSyscalls>> = {
  x64: { mount: 165, umount2: 166, pivotRoot: 155, prctl: 157 },
  arm64: { mount: 40, umount2: 39, pivotRoot: 41, prctl: 167 },
  riscv64: { mount: 40, umount2: 39, pivotRoot: 41, prctl: 167 },
};

/** The table for `arch` (`process.arch`), or null when this architecture is not covered. */
export function initSyscalls(arch: string): InitSyscalls | null {
  return SYSCALLS[arch] ?? null;
}

/**
 * One step of the filesystem stage, as a single argv word: an op letter and a path.
 * `R` root (scratch mount point), `D` minimal /dev, `T` private /tmp, `M` mask a directory
 * (empty tmpfs), `F` mask a file (/dev/null), `B` writable bind, `C` working directory, `L`
 * bring the network namespace's loopback up (a run with an allowlist: its proxy bridge
 * listens there; bubblewrap does this itself).
 */
export type MountOp =
  | { op: "root"; path: string }
  | { op: "dev" }
  | { op: "tmp" }
  | { op: "maskDir"; path: string }
  | { op: "maskFile"; path: string }
  | { op: "bind"; path: string }
  | { op: "cwd"; path: string }
  | { op: "loopbackUp" };

const OP_LETTERS: Record<MountOp["op"], string> = {
  root: "R",
  dev: "D",
  tmp: "T",
  maskDir: "M",
  maskFile: "F",
  bind: "B",
  cwd: "C",
  loopbackUp: "L",
};

/** Encodes one op as an argv word. */
export function encodeMountOp(op: MountOp): string {
  return OP_LETTERS[op.op] + ("path" in op ? op.path : "");
}

/**
 * The Perl program. argv: `S<mount>,<umount2>,<pivot_root>,<prctl>` (or `S-`), `P` when it
 * must drop capabilities, the mount ops, `--`, the command. Errors before the fork exit 125
 * with a `vltair-init:` line on stderr (the ready marker never comes: sandbox_setup_failed).
 * Written without modules so it starts in ~1 ms.
 */
export const INIT_SCRIPT = `
my ($sys, $drop, @ops) = (shift(@ARGV), 0);
sub fail { print STDERR "vltair-init: @_: $!\\n"; exit 125 }
my ($MOUNT, $UMOUNT2, $PIVOT, $PRCTL) = $sys =~ /^S(\\d+),(\\d+),(\\d+),(\\d+)$/;
while (@ARGV && $ARGV[0] ne '--') { my $a = shift @ARGV; if ($a eq 'P') { $drop = 1 } else { push @ops, $a } }
shift @ARGV;
fail('no command') unless @ARGV;
sub mnt { my ($src, $dst, $type, $flags, $data) = @_;
  syscall($MOUNT, $src, $dst, $type, $flags, $data) == 0 or fail("mount $dst") }
sub setattr { my ($path, $flags, $set, $clr) = @_; my $attr = pack('QQQQ', $set, $clr, 0, 0);
  syscall(442, -100, $path, $flags, $attr, length $attr) == 0 or fail("mount_setattr $path") }
sub mkpath { my $p = ''; for (split m{/}, $_[0]) { next if $_ eq ''; $p .= "/$_"; mkdir $p unless -e $p } }
sub prctl { syscall($PRCTL, $_[0], $_[1], 0, 0, 0) }
my ($root, $cwd) = ('', '/');
for my $a (@ops) {
  my ($op, $path) = (substr($a, 0, 1), substr($a, 1));
  if ($op eq 'L') { socket(my $s, 2, 2, 0) or fail('socket'); my $ifr = pack('a16 x24', 'lo');
    ioctl($s, 0x8913, $ifr) or fail('SIOCGIFFLAGS lo'); my $fl = unpack('x16 S', $ifr);
    ioctl($s, 0x8914, pack('a16 S x22', 'lo', $fl | 1)) or fail('SIOCSIFFLAGS lo'); next }
  fail('mount ops need system call numbers') unless defined $MOUNT;
  my $at = "$root$path";
  if ($op eq 'R') { $root = $path; mkdir $root; mnt('/', $root, '', 20480, '');
    setattr($root, 0x8000, 1, 0); setattr("$root/proc", 0, 0, 1) }
  elsif ($op eq 'D') { mnt('tmpfs', "$root/dev", 'tmpfs', 2, 'mode=0755');
    for my $d (qw(null zero full random urandom tty)) {
      open(my $f, '>', "$root/dev/$d") or fail("create /dev/$d"); close $f;
      mnt("/dev/$d", "$root/dev/$d", '', 4096, '') }
    mkdir "$root/dev/pts"; mkdir "$root/dev/shm";
    mnt('devpts', "$root/dev/pts", 'devpts', 10, 'newinstance,ptmxmode=0666,mode=620');
    symlink('pts/ptmx', "$root/dev/ptmx"); symlink('/proc/self/fd', "$root/dev/fd");
    symlink("/proc/self/fd/$_", "$root/dev/" . (qw(stdin stdout stderr))[$_]) for 0 .. 2 }
  elsif ($op eq 'T') { mnt('tmpfs', "$root/tmp", 'tmpfs', 6, 'mode=1777') }
  elsif ($op eq 'M') { mnt('tmpfs', $at, 'tmpfs', 6, 'mode=0755') if -d $at }
  elsif ($op eq 'F') { mnt('/dev/null', $at, '', 4096, '') if -e $at }
  elsif ($op eq 'B') { if (-d $path) { mkpath($at) } elsif (!-e $at) { open(my $f, '>', $at); close $f }
    mnt($path, $at, '', 4096, '') }
  elsif ($op eq 'C') { $cwd = $path }
  else { fail("unknown op $op") } }
if ($root ne '') { my ($dot, $dot2) = ('.', '.'); chdir $root or fail('chdir root');
  syscall($PIVOT, $dot, $dot2) == 0 or fail('pivot_root');
  syscall($UMOUNT2, $dot, 2) == 0 or fail('umount old root');
  chdir $cwd or fail("chdir $cwd"); rmdir $root }
if ($drop) { fail('drop needs prctl') unless defined $PRCTL;
  prctl(24, $_) for 0 .. 63; prctl(47, 4); prctl(28, 0x2f) == 0 or fail('securebits');
  prctl(38, 1) == 0 or fail('no_new_privs') }
prctl(4, 0) if defined $PRCTL;
my $pid;
for my $s (qw(TERM INT HUP QUIT USR1 USR2)) { $SIG{$s} = sub { kill $s, $pid if $pid } }
$pid = fork;
fail('fork') unless defined $pid;
if ($pid == 0) { exec { $ARGV[0] } @ARGV; print STDERR "vltair-init: exec $ARGV[0]: $!\\n"; exit 127 }
my ($w, $status) = (0, 0);
while (1) { $w = waitpid(-1, 0); if ($w == $pid) { $status = $?; last } last if $w == -1 && $! != 4 }
if (open(my $out, '>&=', 3)) { syswrite($out, "X$status\\n") }
exit(($status & 127) ? 128 + ($status & 127) : $status >> 8);
`;

/**
 * argv of the init stage (before the command): `perl -e INIT vltair-init S… [P] ops… --`.
 *
 * @example
 * ```ts
 * initArgv("/usr/bin/perl", initSyscalls("x64"), { dropCapabilities: false, ops: [] });
 * // ["/usr/bin/perl", "-e", INIT_SCRIPT, "S165,166,155,157", "--"]
 * ```
 */
export function initArgv(
  perl: string,
  syscalls: InitSyscalls | null,
  stage: { dropCapabilities: boolean; ops: readonly MountOp[] },
): string[] {
  const sys =
    syscalls === null
      ? "S-"
      : `S${syscalls.mount},${syscalls.umount2},${syscalls.pivotRoot},${syscalls.prctl}`;
  const argv = [perl, "-e", INIT_SCRIPT, sys];
  if (stage.dropCapabilities) argv.push("P");
  for (const op of stage.ops) argv.push(encodeMountOp(op));
  argv.push("--");
  return argv;
}

/** The wait status the init reported on fd 3 (the last `X<n>` record), or null. */
export function parseInitStatus(marker: string): number | null {
  const found = [...marker.matchAll(/X(\d{1,6})\n/g)];
  const last = found.at(-1)?.[1];
  return last === undefined ? null : Number(last);
}
