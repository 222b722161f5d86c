package FaasTest;

# A small harness of our own: a temporary prefix per test file, the
# runner on a unix socket, nginx on a free loopback port, both started
# and stopped by pid, every wait bounded, raw HTTP and FastCGI clients.
#
# Environment: TEST_NGINX_BINARY (default: nginx) and TEST_FAAS_MODULE
# (default: build/ngx_http_faas_module.so), TEST_NGINX_LEAVE
# (keep the prefix), TEST_NGINX_VERBOSE (print the logs at the end),
# TEST_FAAS_RUNNER (the runner binary, default the ASan+UBSan build
# build/fcgi-runner-asan, else build/fcgi-runner), TEST_FAAS_TIMEOUT
# (seconds a test file may run, default 300).

use strict;
use warnings;

use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use IO::Socket::UNIX;
use Fcntl ();
use POSIX qw(:sys_wait_h);
use Scalar::Util ();
use Socket qw(SOCK_STREAM);
use Test::More;
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(fcgi_record fcgi_params fcgi_request_bytes http_parse);

our $ROOT = abs_path(dirname(__FILE__) . '/../..');
our $BUILD = "$ROOT/build";

# every runner a test starts is the sanitizer build when there is one:
# its teardown fails on any report
our $RUNNER = $ENV{TEST_FAAS_RUNNER}
    // (-x "$BUILD/fcgi-runner-asan" ? "$BUILD/fcgi-runner-asan"
                                     : "$BUILD/fcgi-runner");

# tests that measure the runner's resident memory start the plain build
# (ASan's quarantine keeps freed memory on purpose); with
# TEST_FAAS_MEMORY_UNDER_ASAN they start the sanitizer build instead and
# skip the measurement (runner_memory_asan.t does that)
sub memory_runner {
    return $ENV{TEST_FAAS_MEMORY_UNDER_ASAN} ? $RUNNER : "$BUILD/fcgi-runner";
}

sub rss_measured { !$ENV{TEST_FAAS_MEMORY_UNDER_ASAN} }

# the head of a FastCGI worker written by hand in Perl: the listening
# socket on descriptor 0 ($l), rec(TYPE, ID, CONTENT) a record's bytes,
# rd(SOCKET, N) N bytes read whole (undef at the end); a test adds its
# accept loop
our $PERL_FCGI_WORKER = <<'EOF';
#!/usr/bin/perl
use strict;
use warnings;
use Socket;
open(my $l, '+<&=', 0) or die "fd 0: $!";
sub rec { my ($type, $id, $c) = @_;
          pack('CCnnCC', 1, $type, $id, length $c, 0, 0) . $c }
sub rd { my ($s, $n) = @_; my $b = '';
         while (length $b < $n) { my $r = sysread($s, $b, $n - length $b,
                                                  length $b);
                                  return undef unless $r; }
         return $b }
# the next record: (type, id, content length, content and padding)
sub rd_rec { my ($s) = @_; my $h = rd($s, 8); return unless defined $h;
             my (undef, $type, $id, $len, $pad) = unpack('CCnnC', $h);
             my $b = $len + $pad ? rd($s, $len + $pad) : '';
             return defined $b ? ($type, $id, $len, $b) : () }
EOF

our %SANITIZER_ENV = (
    ASAN_OPTIONS => 'detect_leaks=1:abort_on_error=0:exitcode=86',
    UBSAN_OPTIONS => 'print_stacktrace=1:halt_on_error=1',
);

# no test file may hang: past its time it fails, and what it started
# is stopped. A process the test forks (a peer, a client) inherits these
# handlers and the objects: it stops nothing of its parent's (kill_all
# and DESTROY look at the owner's pid), a signal to it ends it alone.
my %live;
my $owner = $$;
$SIG{ALRM} = sub {
    POSIX::_exit(254) if $$ != $owner;
    fail("test file ran longer than its limit");
    $_->kill_all for grep { defined } values %live;
    done_testing() unless Test::More->builder->has_plan;
    POSIX::_exit(254);
};
alarm($ENV{TEST_FAAS_TIMEOUT} // 300);

# stopped from outside (timeout(1), Ctrl-C): what it started goes too
for my $sig (qw(INT TERM HUP)) {
    $SIG{$sig} = sub {
        $_->kill_all for grep { defined } values %live;
        POSIX::_exit(128 + ($sig eq 'INT' ? 2 : $sig eq 'TERM' ? 15 : 1));
    };
}

use constant {
    FCGI_BEGIN_REQUEST => 1, FCGI_ABORT_REQUEST => 2, FCGI_END_REQUEST => 3,
    FCGI_PARAMS => 4, FCGI_STDIN => 5, FCGI_STDOUT => 6, FCGI_STDERR => 7,
    FCGI_GET_VALUES => 9, FCGI_GET_VALUES_RESULT => 10,
    FCGI_UNKNOWN_TYPE => 11,
};


sub new {
    my ($class, %opts) = @_;

    my $self = bless { %opts }, $class;

    $self->{prefix} = tempdir('faas-test-XXXXXX', TMPDIR => 1,
                              CLEANUP => !$ENV{TEST_NGINX_LEAVE});
    # the workers run as other users (dynamic ones, nobody): they must
    # reach their folders
    chmod 0755, $self->{prefix};
    make_path("$self->{prefix}/functions", "$self->{prefix}/logs");
    chmod 0755, "$self->{prefix}/functions";

    # taken here, in the file's own process, not in a child it forks
    test_slot();
    $self->{runner_bin} = $opts{runner} // $RUNNER;
    $self->{socket} = "$self->{prefix}/runner.sock";
    $self->{pids} = [];
    $live{"$self"} = $self;
    Scalar::Util::weaken($live{"$self"});

    diag("prefix $self->{prefix}") if $ENV{TEST_NGINX_LEAVE};

    return $self;
}

sub prefix { $_[0]{prefix} }
sub socket_path { $_[0]{socket} }
sub functions_dir { "$_[0]{prefix}/functions" }
sub runner_pid { $_[0]{runner_pid} }
sub runner_bin_name { $_[0]{runner_bin} }

# test programs are copied into the prefix: the workers' users may not
# be able to reach the checkout (a clone under /root, mode 0700)
# (called as a class function: into a folder shared by the test file)
my $shared_bin;

# live processes whose command line (NUL-separated) matches $re
sub cmdline_pids {
    my ($re) = @_;
    return grep { (read_file("/proc/$_/cmdline") // '') =~ $re } all_pids();
}

# a "sleep $secs" a function left: seen within 10 s, then gone within
# 25 s (the sweeps' work), each a test
sub sleeper_made_and_gone {
    my ($secs, $made, $gone) = @_;
    my $re = qr/^sleep\x00$secs\x00/;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    ok(wait_for(sub { cmdline_pids($re) }, 10), $made);
    ok(wait_for(sub { !cmdline_pids($re) }, 25), $gone)
        or diag('left: ' . join ' ', cmdline_pids($re));
}

# a runner run as nobody (uid 65534): the runner, faas-init and the
# Python driver copied where nobody reaches them (a clone under /root is
# root's alone) and started through setpriv
sub runner_as_nobody {
    my ($self) = @_;
    my $up = $self->{prefix};
    my $bin = $self->program($RUNNER);
    $self->program("$BUILD/$_") for qw(faas-init faas_wsgi.py);
    write_file("$up/as-nobody", "#!/bin/sh\nexec setpriv "
        . "--reuid=65534 --regid=65534 --clear-groups $bin \"\$@\"\n");
    chmod 0755, "$up/as-nobody";
    $self->{runner_bin} = "$up/as-nobody";
}

sub program {
    my ($self, $path) = @_;
    my ($name) = $path =~ m{([^/]+)$};
    my $dir = ref $self ? "$self->{prefix}/bin"
            : ($shared_bin //= tempdir('faas-bin-XXXXXX', TMPDIR => 1,
                                       CLEANUP => 1));
    my $copy = "$dir/$name";
    unless (-x $copy) {
        make_path($dir);
        chmod 0755, $dir;
        system('cp', $path, $copy) == 0 or die "cp $path: $?";
        chmod 0755, $copy;
    }
    return $copy;
}

sub testfn { program($_[0], "$BUILD/t/testfn") }

# a function folder: function.conf text and other files
sub function {
    my ($self, $name, $conf, %files) = @_;

    my $dir = $self->functions_dir . "/$name";
    make_path($dir);
    chmod 0755, $dir;

    write_file("$dir/function.conf", $conf);

    for my $f (keys %files) {
        make_path("$dir/$1") if $f =~ m{^(.*)/};
        write_file("$dir/$f", $files{$f});
        chmod(($files{$f} =~ /^#!/ ? 0755 : 0644), "$dir/$f");
    }

    return $dir;
}

sub remove_function {
    my ($self, $name) = @_;
    remove_tree($self->functions_dir . "/$name");
}

sub write_file {
    my ($path, $content) = @_;
    open my $fh, '>', $path or die "open $path: $!";
    print $fh $content;
    close $fh;
}

sub read_file {
    my ($path) = @_;
    open my $fh, '<', $path or return '';
    local $/;
    my $s = <$fh>;
    close $fh;
    return $s // '';
}

# make test runs two test files at once (t/testrules.yml): each file
# takes a slot, 1 to 66, by binding an abstract unix socket its perl
# processes hold while they live; the slot gives it uids (uid_slice_conf)
# and loopback ports no other file running is given
my ($slot, $slot_sock);

sub test_slot {
    return $slot if defined $slot;
    $slot = 0;
    for my $n (1 .. 66) {
        $slot_sock = IO::Socket::UNIX->new(Type => SOCK_STREAM,
                                           Local => "\0faas-test-slot-$n")
            or next;
        return $slot = $n;
    }
    diag('every test slot is taken: uids and ports may be shared');
    return $slot;
}

# a port nothing listens on: the next of the slot's 150 (20000-29899,
# below the kernel's ephemeral ports, so nobody's connect takes one),
# else one the kernel picks (another file may be handed it too before
# it is bound)
my $port_next = 0;

sub free_port {
    if (my $n = test_slot()) {
        for (1 .. 150) {
            my $port = 20000 + 150 * ($n - 1) + $port_next++ % 150;
            my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                          LocalPort => $port,
                                          Proto => 'tcp', Listen => 1)
                or next;
            close $s;
            return $port;
        }
    }
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1)
        or die "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub wait_for {
    my ($cond, $timeout) = @_;
    my $end = time + ($timeout // 10);
    while (time < $end) {
        my $v = $cond->();
        return $v if $v;
        sleep 0.02;
    }
    return $cond->();
}


# runs a libFuzzer binary of build/t for $seconds from @seeds (a corpus
# in the prefix; a finding is written there too); two checks: it found
# nothing, and it ran at least $min runs
sub libfuzzer {
    my ($self, $name, $seconds, $min, @seeds) = @_;
    my $bin = "$BUILD/t/$name";
    BAIL_OUT("no $bin: make test builds it with clang") unless -x $bin;

    my $corpus = "$self->{prefix}/corpus-$name";
    make_path($corpus);
    write_file("$corpus/seed-$_", $seeds[$_]) for 0 .. $#seeds;

    my $cmd = "TMPDIR=$self->{prefix} $bin -max_total_time=$seconds "
            . "-rss_limit_mb=2048 "
            . "-artifact_prefix=$self->{prefix}/ $corpus";
    my $out = `$cmd 2>&1`;
    is($? >> 8, 0, "$name: $seconds s of libFuzzer found nothing")
        or diag(substr($out, -3000));
    my ($runs) = $out =~ /Done (\d+) runs/;
    ok($runs && $runs >= $min, "$name ran ($runs runs)");
}


# runs another test file of t/ in the environment given; one check: it
# passed whole (its plan, no failure, exit 0)
sub run_test_file {
    my ($file, $name) = @_;
    my $t = "$ROOT/t/$file.t";
    my $out = `$^X -I$ROOT/t/lib $t 2>&1`;
    my $rc = $? >> 8;
    my ($planned) = $out =~ /^1\.\.(\d+)/m;
    my @not = $out =~ /^(not ok .*)$/mg;
    return ok($rc == 0 && $planned && !@not, "$file.t $name")
        || diag(join("\n", @not) . "\n" . substr($out, -3000));
}


# --- the runner ----------------------------------------------------------

# The tenants' uids of a test file's runners are a slice of
# dynamic_users of its own (its slot's, test_slot): one file's processes
# never count against another's max_processes (RLIMIT_NPROC is per uid,
# host-wide) nor share a PHP session folder. Slice 0, the default's
# first 64 uids, is left to runners started without this text (make
# run, the packages' service).
sub uid_slice_conf {
    my $n = test_slot();
    return '' if $> != 0 || !$n;
    my $first = 61184 + 64 * $n;
    return sprintf("dynamic_users = %d-%d\n", $first, $first + 63);
}

sub runner_conf_text {
    my ($self, $extra) = @_;
    my $conf = uid_slice_conf()
             . "listen = unix:$self->{socket}\n"
             . "functions = " . $self->functions_dir . "\n"
             . "state_dir = $self->{prefix}/state\n";
    $conf .= "listen_group = www-data\n" if $> == 0;
    return $conf . ($extra // '');
}

sub start_runner {
    my ($self, %opts) = @_;

    my $conf = "$self->{prefix}/runner.conf";
    write_file($conf, $self->runner_conf_text($opts{conf}));

    $self->{runner_log} = "$self->{prefix}/logs/runner.log";

    my @args = ('--config', $conf, @{ $opts{args} // [] });
    push @args, '--log-level', $opts{log_level} // 'info';

    my $listening = () = $self->runner_log =~ /listening on "/g;

    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $self->{runner_log};
        open STDERR, '>>', $self->{runner_log};
        %ENV = (%ENV, %SANITIZER_ENV, %{ $opts{env} // {} });
        # descriptors left open across the exec, on /dev/null
        if (my @nulls = @{ $opts{nulls} // [] }) {
            my $n = POSIX::open('/dev/null', POSIX::O_RDONLY())
                    // POSIX::_exit(126);
            # (dup2 leaves its copy open across the exec)
            POSIX::dup2($n, $_) // POSIX::_exit(126) for @nulls;
            POSIX::close($n) unless grep { $_ == $n } @nulls;
        }
        if ($opts{inherit}) {
            # socket activation as systemd does it: descriptors from 3,
            # LISTEN_PID ours (the exec keeps it)
            # above them all first: one may already sit at 3 or 4
            my @in = @{ $opts{inherit} };
            for my $i (0 .. $#in) {
                POSIX::dup2(ref $in[$i] ? fileno($in[$i]) : $in[$i],
                            100 + $i) // POSIX::_exit(126);
            }
            my @high = map { 100 + $_ } 0 .. $#in;
            my $fd = 3;
            for my $h (@high) {
                POSIX::dup2($h, $fd) // POSIX::_exit(126);
                open(my $fh, '+<&=', $fd) or POSIX::_exit(126);
                fcntl($fh, Fcntl::F_SETFD(), 0) or POSIX::_exit(126);
                $fd++;
            }
            $ENV{LISTEN_FDS} = scalar @{ $opts{inherit} };
            $ENV{LISTEN_PID} = $opts{listen_pid} // $$;
        }
        exec $self->{runner_bin}, @args or POSIX::_exit(127);
    }

    $self->{runner_pid} = $pid;

    my $up = wait_for(sub {
        return -1 unless kill 0, $pid;
        # its line (at notice; not an earlier runner's in the same log),
        # or, logging less, a socket that accepts (a stale one refuses)
        my $n = () = $self->runner_log =~ /listening on "/g;
        # (an inherited socket accepts before the runner is up)
        return $n > $listening
               || !$opts{inherit} && IO::Socket::UNIX->new(
                                        Peer => $self->{socket},
                                        Type => SOCK_STREAM);
    }, 10);

    if ($opts{may_fail} && (!$up || $up == -1)) {
        return undef;
    }

    die "runner did not start:\n" . read_file($self->{runner_log})
        unless $up && $up != -1;

    return $pid;
}

sub runner_log { $_[0]{runner_log} ? read_file($_[0]{runner_log}) : "" }

sub wait_log {
    my ($self, $re, $timeout) = @_;
    return wait_for(sub { $self->runner_log =~ $re }, $timeout // 10);
}

sub signal_runner {
    my ($self, $sig) = @_;
    kill $sig, $self->{runner_pid};
}

# waits for the runner to exit; returns its exit status or undef
sub wait_runner {
    my ($self, $timeout) = @_;
    my $pid = $self->{runner_pid} or return;
    my $status;
    wait_for(sub {
        my $r = waitpid($pid, WNOHANG);
        $status = $? if $r == $pid;
        return $r == $pid || $r == -1;
    }, $timeout // 15);
    delete $self->{runner_pid} if defined $status;
    return $status;
}

sub stop_runner {
    my ($self) = @_;
    my $pid = $self->{runner_pid} or return;
    kill 'TERM', $pid;
    my $status = $self->wait_runner(15);
    unless (defined $status) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
        delete $self->{runner_pid};
        fail('runner stops on SIGTERM within 15 s');
    }
    return $status;
}


# A test of what only a root runner does (users, limits, namespaces)
# fails when not run as root: make test runs as root (it installs
# packages too), and a skipped test would pass for one that never ran.
# What a test needs (a package make test-deps installs, root): when it
# is missing the test fails with the reason, never skips: CI installs
# everything, and a skip would pass for a test that never ran.
sub need {
    my ($ok, $what) = @_;
    return if $ok;
    plan tests => 1;
    fail("needs $what");
    exit 1;
}

sub need_root {
    my ($what) = @_;
    return if $> == 0;
    plan tests => 1;
    fail("$what needs a root runner: run the tests as root");
    exit 1;
}


# --- processes -----------------------------------------------------------

sub proc_children {
    my ($ppid) = @_;
    my @kids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        my $s = read_file($stat) or next;
        # pid (comm) state ppid
        next unless $s =~ /^(\d+) \(.*\) \S+ (\d+)/s;
        push @kids, $1 if $2 == $ppid;
    }
    return @kids;
}

# every live (not zombie) process
sub all_pids {
    my @p;
    for my $stat (glob '/proc/[0-9]*/stat') {
        my $s = read_file($stat) or next;
        push @p, $1 if $s =~ /^(\d+) \(.*\) [^ZX]/s;
    }
    return @p;
}

# resident set in kB
sub proc_rss {
    my ($pid) = @_;
    my $s = read_file("/proc/$pid/status") // '';
    return $s =~ /^VmRSS:\s+(\d+)/m ? $1 : 0;
}

sub proc_cwd {
    my ($pid) = @_;
    return readlink("/proc/$pid/cwd") // '';
}

# live worker pids of a function (the runner's children in its folder);
# not its prototype nor the reaper of its namespace, in its folder too as
# they start (a storm of kills under CI's load once took one for a
# worker); nor a worker forked by them and not yet exec'd (their copy)
sub workers {
    my ($self, $name) = @_;
    my $dir = abs_path($self->functions_dir . "/$name") // return ();
    my @w;
    for my $pid (proc_children($self->{runner_pid} // return ())) {
        my $stat = read_file("/proc/$pid/stat");
        next if $stat =~ /^\d+ \(.*\) Z/s;
        next if proc_cwd($pid) ne $dir;
        my $cmd = read_file("/proc/$pid/cmdline") // '';
        push @w, $pid unless $cmd =~ /\Afaas-init\0prototype\0/;
    }
    @w = sort { $a <=> $b } @w;
    return wantarray ? @w : scalar @w;
}

# every process whose cwd is under our prefix: what must not outlive us
sub leftovers {
    my ($self) = @_;
    my $prefix = abs_path($self->{prefix});
    my @p;
    for my $dir (glob '/proc/[0-9]*') {
        my ($pid) = $dir =~ /(\d+)$/;
        next if $pid == $$;
        my $cwd = proc_cwd($pid);
        push @p, $pid if index($cwd, $prefix) == 0;
    }
    return @p;
}

# the runner's open descriptors, less one per live worker connection
sub runner_fds {
    my ($self) = @_;
    my @fds = glob("/proc/$self->{runner_pid}/fd/*");
    return scalar @fds;
}

sub proc_alive {
    my ($pid) = @_;
    my $stat = read_file("/proc/$pid/stat") or return 0;
    return $stat !~ /^\d+ \(.*\) [ZX]/s;
}


# --- nginx ---------------------------------------------------------------

sub nginx_binary {
    my ($self) = @_;
    return $self->{nginx} if ref $self && $self->{nginx};
    return $ENV{TEST_NGINX_BINARY} // 'nginx';
}

sub module_path {
    my ($self) = @_;
    return $self->{module} if ref $self && $self->{module};
    return $ENV{TEST_FAAS_MODULE} // "$BUILD/ngx_http_faas_module.so";
}

sub nginx_conf_text {
    my ($self, $http) = @_;
    my $p = $self->{prefix};
    my $user = $> == 0 ? "user www-data;\n" : '';
    my $modules = "load_module " . $self->module_path . ";\n"
                . ($self->{nginx_main} // '');

    return <<"EOF";
${user}worker_processes 1;
daemon off;
master_process on;
pid $p/nginx.pid;
error_log $p/logs/error.log info;
$modules
events { worker_connections 4096; }

http {
    access_log $p/logs/access.log;
    client_body_temp_path $p/client_body_temp;
    fastcgi_temp_path $p/fastcgi_temp;
    proxy_temp_path $p/proxy_temp;
    scgi_temp_path $p/scgi_temp;
    uwsgi_temp_path $p/uwsgi_temp;
    faas_temp_path $p/faas_temp;

$http
}
EOF
}

# DESIGN.md's faas_meter format, every $faas_* variable; for nginx.conf
sub meter_log_format {
    return <<'EOF';
    log_format faas_meter 'time=$time_iso8601 function=$faas_function '
                          'tenant=$faas_tenant status=$status '
                          'outcome=$faas_status duration=$faas_duration '
                          'billed=$faas_billed_duration '
                          'init=$faas_init_duration cold=$faas_cold '
                          'queue=$faas_queue_duration cpu=$faas_cpu_time '
                          'memory=$faas_max_memory '
                          'memory_size=$faas_memory_size '
                          'worker=$faas_worker';
EOF
}

# the $i-th line of an access log in the faas_meter format, as a hash
# of its keys (waited for, up to $wait seconds)
sub log_line {
    my ($file, $i, $wait) = @_;
    my @lines;
    wait_for(sub {
        @lines = split /\n/, (read_file($file) // '');
        @lines >= $i;
    }, $wait // 10);
    return { map { /^([a-z_]+)=(.*)$/ ? ($1, $2) : () }
             split / /, $lines[$i - 1] // '' };
}

# a CGI function NAME that answers 200 "ok" (conf: more lines)
sub ok_function {
    my ($self, $name, $conf) = @_;
    return $self->function($name, "exec = ./run.sh\nmode = cgi\n"
                           . ($conf // ''), 'run.sh' => "#!/bin/sh\n"
                           . "printf 'Content-Type: text/plain\\r\\n"
                           . "\\r\\nok\\n'\n");
}

# a CGI function NAME that reads its body and answers $status ("200 OK")
# with the body "answer"
sub cgi_answer_function {
    my ($self, $name, $status) = @_;
    return $self->function($name, "exec = ./run.sh\nmode = cgi\n",
        'run.sh' => "#!/bin/sh\ncat > /dev/null\nprintf 'Status: $status"
                  . "\\r\\nContent-Type: text/plain\\r\\n\\r\\nanswer\\n'\n");
}

# an asynchronous invocation of function $name straight to the runner
# (FAAS_INVOCATION=async, as nginx sends it): its status and id
sub fcgi_async {
    my ($self, $name, $body, $timeout) = @_;
    my $r = $self->fcgi_call($name, timeout => $timeout // 30, params => [
        FAAS_INVOCATION => 'async', REQUEST_METHOD => 'POST',
        CONTENT_LENGTH => length $body, CONTENT_TYPE => 'text/plain' ],
        stdin => $body);
    my $h = $r->{http} // {};
    return ($h->{status} // 0, header($h, 'faas-invocation-id') // '');
}

# a CGI script that leaves a daemon (a double fork, setsid, every
# descriptor closed) sleeping $secs s, waits for its first child, runs
# $then (shell), and answers $body
sub daemon_script {
    my ($secs, $then, $body) = @_;
    return "#!/bin/sh\nperl -e '\n"
         . "  if (fork() == 0) {\n"
         . "      exit 0 if fork();\n"
         . "      require POSIX;\n"
         . "      POSIX::close(\$_) for 0 .. 63;\n"
         . "      POSIX::setsid();\n"
         . "      exec \"sleep\", \"$secs\";\n"
         . "  }\n"
         . "  wait;'\n$then"
         . "printf 'Content-Type: text/plain\\r\\n\\r\\n$body\\n'\n";
}

# a CGI function that logs "ID BODY" of each run to out/log: its folder
sub id_recorder {
    my ($self, $name) = @_;
    my $dir = $self->function($name, "exec = ./run.sh\nmode = cgi\n",
        'run.sh' => "#!/bin/sh\nbody=\$(cat)\n"
                    . "echo \"\$FAAS_INVOCATION_ID \$body\" >> out/log\n"
                    . "printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'\n");
    mkdir "$dir/out";
    chmod 0777, "$dir/out";
    return $dir;
}

# the conf of gated_recorder's functions
our $GATED_CONF = "exec = ./run\nmode = cgi\nmax_instances = 1\n";

# a CGI function whose runs each wait for out/gate (30 s at most), then
# log "ID BODY" to out/log, one at a time: a run held while a test looks
# at its row (which keeps its parameters until its outcome); its folder
sub gated_recorder {
    my ($self, $name) = @_;
    my $dir = $self->function($name, $GATED_CONF, run => q{#!/bin/sh
body=$(cat)
i=0
while [ ! -e out/gate ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
echo "$FAAS_INVOCATION_ID $body" >> out/log
printf 'Content-Type: text/plain\r\n\r\nok\n'
});
    chmod 0755, "$dir/run";
    mkdir "$dir/out";
    chmod 0777, "$dir/out";
    return $dir;
}

# the store up: an invocation of id_recorder $name (its folder $dir)
# accepted (a 202, tried for 20 s) and run once (15 s); its id or undef
sub store_warm {
    my ($self, $dir, $name) = @_;
    my ($st, $id);
    wait_for(sub { ($st, $id) = $self->fcgi_async($name, 'warm', 45);
                   $st == 202 }, 20) or return undef;
    return wait_for(sub { recorded($dir, qr/ warm$/m) == 1 }, 15)
           ? $id : undef;
}

# how many runs an id_recorder logged that match $re
sub recorded {
    my ($dir, $re) = @_;
    return scalar(() = read_file("$dir/out/log") =~ /$re/g);
}

# the embedded store's answer to $sql (sqlite3, waiting out its locks)
sub sqlite {
    my ($db, $sql) = @_;
    my $o = `sqlite3 -cmd '.timeout 20000' $db "$sql" 2>&1`;
    chomp $o;
    return $o;
}

# an invocation of $name through async_location(), answered 202 and
# running now (its row keeps its parameters while it runs, for a test
# to copy): its id, or undef
sub async_running {
    my ($self, $name, $body) = @_;
    my $r = $self->http_post("/async/$name", $body);
    my $id = $r && $r->{status} == 202
             ? header($r, 'faas-invocation-id') : undef;
    my $db = "$self->{prefix}/state/async.db";
    return $id && wait_for(sub { sqlite($db, "SELECT state FROM invocations "
                                        . "WHERE id = '$id'") eq '1' }, 10)
           ? $id : undef;
}

# a location for faas_location's extra: /async/NAME invokes NAME
# asynchronously (a 202 and its id)
sub async_location {
    return <<'EOF';
        location /async/ {
            faas_route ^/async/(?<afn>[^/]+) $afn;
            faas_invocation async;
            faas_pass runner;
        }
EOF
}

# nginx in front of the runner, /fn/NAME to function NAME, each request
# in $log in the faas_meter format; $extra: more in its server
sub start_metered_nginx {
    my ($self, $log, $extra) = @_;
    my $sock = $self->{socket};
    $self->{port} //= free_port();
    return $self->start_nginx(meter_log_format() . <<"EOF");

    upstream runner { server unix:$sock; keepalive 8; }

    server {
        listen 127.0.0.1:$self->{port};

        location /fn/ {
            faas_route ^/fn/(?<name>[a-z]+)\$ \$name;
            faas_pass runner;
            access_log $log faas_meter;
        }
        @{[ $extra // '' ]}
    }
EOF
}

# the module's front: faas_route to the runner
sub faas_location {
    my ($self, %o) = @_;
    my $sock = $self->{socket};
    $self->{port} //= free_port();
    return <<"EOF";
    upstream runner {
        server unix:$sock;
        keepalive 16;
    }

    server {
        listen 127.0.0.1:$self->{port};
        client_max_body_size 0;

        location /fn/ {
            faas_route ^/fn/(?<fname>[^/]*)(?<path_info>/.*)?\$ \$fname;
            faas_pass runner;
            @{[ $o{location} // '' ]}
        }
        @{[ $o{extra} // '' ]}
    }
EOF
}

# a server beside fastcgi_location's on PORT: /fn/NAME through faas_pass
# to the same upstream (the runner's socket)
sub faas_route_server {
    my ($self, $port) = @_;
    return "    server {\n        listen 127.0.0.1:$port;\n"
         . "        location /fn/ {\n"
         . '            faas_route ^/fn/(?<fname>[^/]*) $fname;' . "\n"
         . "            faas_pass runner;\n        }\n    }\n";
}

# the usual stock-nginx front: /fn/NAME/... to the runner
sub fastcgi_location {
    my ($self, %o) = @_;
    my $keep = $o{keepalive} // 1;
    my $sock = $self->{socket};
    $self->{port} //= free_port();
    return <<"EOF";
    upstream runner {
        server unix:$sock;
        @{[ $keep ? "keepalive 16;" : "" ]}
    }

    server {
        listen 127.0.0.1:$self->{port};
        client_max_body_size 0;

        location ~ ^/fn/(?<fname>[^/]*)(?<fpath>/.*)?\$ {
            fastcgi_pass runner;
            @{[ $keep ? "fastcgi_keep_conn on;" : "" ]}
            include /etc/nginx/fastcgi_params;
            fastcgi_param FAAS_FUNCTION \$fname;
            fastcgi_param PATH_INFO \$fpath;
            fastcgi_read_timeout 60s;
            fastcgi_request_buffering @{[ $o{request_buffering} // 'on' ]};
            fastcgi_buffering @{[ $o{buffering} // 'on' ]};
        }
        @{[ $o{extra} // '' ]}
    }
EOF
}

sub start_nginx {
    my ($self, $http) = @_;

    $self->{port} //= free_port();
    $http //= $self->fastcgi_location;

    my $conf = "$self->{prefix}/nginx.conf";
    write_file($conf, $self->nginx_conf_text($http));

    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$self->{prefix}/logs/nginx.out";
        open STDERR, '>>', "$self->{prefix}/logs/nginx.out";
        # a sanitizer nginx: reports to its stderr; not leaks (nginx frees
        # its pools at exit, not every allocation), nor the module list
        # every dynamic module defines as the binary does (dlsym finds it)
        $ENV{ASAN_OPTIONS} = 'detect_leaks=0:abort_on_error=0:'
                           . 'detect_odr_violation=0';
        $ENV{UBSAN_OPTIONS} = 'print_stacktrace=1:halt_on_error=1';
        exec $self->nginx_binary, '-p', "$self->{prefix}/", '-c', $conf,
             '-e', "$self->{prefix}/logs/error.log" or POSIX::_exit(127);
    }

    $self->{nginx_pid} = $pid;

    my $up = wait_for(sub {
        return 0 unless kill 0, $pid;
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$self->{port}",
                                      Timeout => 1);
        return $s ? 1 : 0;
    }, 10);

    die "nginx did not start:\n" . read_file("$self->{prefix}/logs/nginx.out")
        . read_file("$self->{prefix}/logs/error.log") unless $up;

    return $pid;
}

sub stop_nginx {
    my ($self) = @_;
    my $pid = delete $self->{nginx_pid} or return;
    kill 'QUIT', $pid;
    my $done = wait_for(sub { waitpid($pid, WNOHANG) != 0 }, 10);
    unless ($done) {
        kill 'TERM', $pid;
        wait_for(sub { waitpid($pid, WNOHANG) != 0 }, 5) or do {
            kill 'KILL', $pid;
            waitpid($pid, 0);
        };
    }
}

sub error_log { read_file("$_[0]{prefix}/logs/error.log") }


# --- teardown ------------------------------------------------------------

# stops what we started and checks what must never happen
sub done {
    my ($self) = @_;

    $self->stop_nginx;

    for my $pid (@{ delete $self->{fakes} // [] }) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
    }

    my $status = $self->stop_runner;

    $self->stop_postgres;

    if (defined $status) {
        is($status, 0, 'runner exits 0 on SIGTERM');
    }

    my $log = $self->runner_log // '';
    # the level of a log line, not text a function wrote into one
    my $level = qr{^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(alert|emerg)\]};
    my @bad = grep { /$level|Sanitizer|runtime error:/ } split /\n/, $log;
    @bad = grep { !$self->{allow_log} || !/$self->{allow_log}/ } @bad;
    ok(!@bad, 'no alert, emerg or sanitizer lines in the runner log')
        or diag(join "\n", @bad);

    my @nbad = grep { /$level/ } split /\n/, $self->error_log;
    push @nbad, grep { /Sanitizer|runtime error:/ } split /\n/,
        read_file("$self->{prefix}/logs/nginx.out");
    ok(!@nbad, 'no alert, emerg or sanitizer lines from nginx')
        or diag(join "\n", @nbad);

    my @left = wait_for(sub { !$self->leftovers }, 5) ? () : $self->leftovers;
    ok(!@left, 'no process left behind') or do {
        diag("left: @left");
        kill 'KILL', @left;
    };

    if ($ENV{TEST_NGINX_VERBOSE}) {
        diag("runner log:\n$log");
        diag("nginx log:\n" . $self->error_log);
    }
}

# a test that died or ran out of time: never leave processes behind,
# nginx's workers too
# php-fpm beside the runner, for comparisons: pm = static with two
# children (as www-data when root) on PREFIX/php-fpm.sock, in the
# foreground; stopped by stop_php_fpm, or with the test if it dies
sub php_fpm_binary {
    my ($fpm) = grep { -x } map { "/usr/sbin/php-fpm$_" } ('8.2', '');
    ($fpm) = glob('/usr/sbin/php-fpm*') unless $fpm;
    return $fpm;
}

# php-fpm's configuration under $p: a pool for each [NAME, SOCKET, PM
# lines] (as www-data when root), its log and pid there, foreground
sub php_fpm_conf {
    my ($p, @pools) = @_;
    my $user = $> == 0 ? "user = www-data\ngroup = www-data\n" : '';
    my $conf = "[global]\npid = $p/php-fpm.pid\n"
             . "error_log = $p/logs/php-fpm.log\ndaemonize = no\n";
    for (@pools) {
        my ($name, $sock, $pm) = @$_;
        $conf .= "\n[$name]\n${user}listen = $sock\nlisten.mode = 0666\n$pm";
    }
    return $conf;
}

sub start_php_fpm {
    my ($self) = @_;
    my $p = $self->{prefix};
    my $fpm = php_fpm_binary() or return;
    write_file("$p/php-fpm.conf", php_fpm_conf($p, [ 'www', "$p/php-fpm.sock",
        "pm = static\npm.max_children = 2\nclear_env = yes\n" ]));
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>>', "$p/logs/php-fpm.out";
        open STDERR, '>>', "$p/logs/php-fpm.out";
        exec $fpm, '-F', '-y', "$p/php-fpm.conf", '-p', $p
            or POSIX::_exit(127);
    }
    $self->{php_fpm_pid} = $pid;
    return wait_for(sub { -S "$p/php-fpm.sock" }, 10)
           ? "$p/php-fpm.sock" : undef;
}

# the nginx server that gives $root's PHP scripts to the php-fpm of
# start_php_fpm as Debian's snippets/fastcgi-php.conf does; $extra in
# its server block and its PHP location
sub php_fpm_server {
    my ($self, $port, $root, %o) = @_;
    my $p = $self->{prefix};
    return <<"EOF";
    server {
        listen 127.0.0.1:$port;
        root $root;
        index index.php;
        @{[ $o{server} // '' ]}

        location / {
            try_files \$uri \$uri/ =404;
        }

        location ~ [^/]\\.php(/|\$) {
            # Debian's snippets/fastcgi-php.conf
            fastcgi_split_path_info ^(.+?\\.php)(/.*)\$;
            try_files \$fastcgi_script_name =404;
            set \$path_info \$fastcgi_path_info;
            fastcgi_param PATH_INFO \$path_info;
            fastcgi_index index.php;
            include /etc/nginx/fastcgi.conf;
            fastcgi_pass unix:$p/php-fpm.sock;
            @{[ $o{php} // '' ]}
        }
    }
EOF
}

sub stop_php_fpm {
    my ($self) = @_;
    my $pid = delete $self->{php_fpm_pid} or return;
    kill 'QUIT', $pid;
    wait_for(sub { waitpid($pid, WNOHANG) != 0 }, 10)
        or do { kill 'KILL', $pid; waitpid($pid, 0) };
}

# --- asynchronous invocations: functions that say what they got -----------

# CGI scripts writing to out/log in their folder: rec records each
# invocation (id, attempt, trigger, method, body); flaky crashes until
# attempt $ok_at; doomed answers 500 every time; dest keeps each JSON
# document it is sent, one a line
sub async_script {
    my ($name, $ok_at) = @_;
    my %s = (
        rec => q{body=$(cat)
echo "$FAAS_INVOCATION_ID $FAAS_ATTEMPT $FAAS_TRIGGER $REQUEST_METHOD $body" >> out/log
printf 'Content-Type: text/plain\r\n\r\nrecorded %s\n' "$body"
},
        flaky => q{echo "$FAAS_INVOCATION_ID $FAAS_ATTEMPT" >> out/log
[ "$FAAS_ATTEMPT" -ge OK_AT ] || kill -SEGV $$
printf 'Content-Type: text/plain\r\n\r\nfine at last\n'
},
        doomed => q{echo "$FAAS_INVOCATION_ID $FAAS_ATTEMPT" >> out/log
printf 'Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nno\n'
},
        dest => q{{ cat; echo; } >> out/log
printf 'Content-Type: text/plain\r\n\r\nok\n'
},
    );
    my $body = $s{$name} // die "no async script $name";
    $body =~ s/OK_AT/$ok_at \/\/ 2/e;
    return "#!/bin/sh\n$body";
}

# --- PostgreSQL, for the shared store --------------------------------------

# a server of the test's own: initdb and pg_ctl in PREFIX/pg (as the
# postgres user: the server refuses root), a unix socket there only, no
# TCP; fsync off unless fsync => 1 (the bench); stopped by stop_postgres,
# by done, or with the test. Returns the store URI (role faas, database
# postgres), undef without PostgreSQL.
sub pg_bin {
    my ($bin) = sort { $b cmp $a } grep { -x "$_/initdb" }
                glob('/usr/lib/postgresql/*/bin');
    return $bin;
}

sub start_postgres {
    my ($self, %o) = @_;
    my $bin = pg_bin() or return undef;
    my $dir = "$self->{prefix}/pg";
    my (undef, undef, $uid, $gid) = getpwnam('postgres') or return undef;

    unless (-d "$dir/data") {
        mkdir $dir;
        chown $uid, $gid, $dir;
        chmod 0700, $dir;
        as_user($uid, $gid, "$bin/initdb", '-D', "$dir/data", '-A', 'trust',
                '-U', 'faas', '-E', 'UTF8', '--no-sync', '--no-instructions')
            == 0 or die "initdb failed";
    }

    as_user($uid, $gid, "$bin/pg_ctl", '-D', "$dir/data", '-l',
            "$dir/server.log", '-w', '-t', '30', '-o',
            "-k $dir -c listen_addresses='' -c max_connections=50 -c fsync="
            . ($o{fsync} ? 'on' : 'off')
            . ($ENV{TEST_PG_SLOW_MS}
               ? " -c log_min_duration_statement=$ENV{TEST_PG_SLOW_MS}" : ''),
            'start') == 0
        or die "pg_ctl start failed:\n" . read_file("$dir/server.log");

    ($self->{pg_pid}) = read_file("$dir/data/postmaster.pid") =~ /^(\d+)/;
    $self->{pg_dir} = $dir;
    $self->{pg_ids} = [$uid, $gid];

    return "postgresql://faas@/postgres?host=$dir";
}

# a PostgreSQL server of the test's own, started (a failure where there
# is none: make test-deps installs it): the FaasTest holding it, its URI
sub postgres {
    need(pg_bin(), 'a PostgreSQL server (postgresql-15, make test-deps)');
    my $db = FaasTest->new;
    return ($db, $db->start_postgres);
}

# the shared store's schema made by a runner of ours with $conf (its
# store), then the runner stopped: rows can be put in before it runs
sub pg_schema {
    my ($self, $db, $conf) = @_;
    $self->start_runner(conf => $conf);
    Test::More::ok(wait_for(sub {
        $db->psql("SELECT to_regclass('faas.invocations') IS NOT NULL")
            eq "t\n" }, 20), 'the runner made the schema');
    Test::More::is($self->stop_runner, 0, 'and stopped');
}

# stopped (to be started again by start_postgres): fast, or immediate
sub stop_postgres {
    my ($self, $mode) = @_;
    my $pid = delete $self->{pg_pid} or return;
    my $bin = pg_bin();
    as_user(@{ $self->{pg_ids} }, "$bin/pg_ctl", '-D', "$self->{pg_dir}/data",
            '-m', $mode // 'fast', '-w', '-t', '30', 'stop');
    # not our child: gone when its pid is
    wait_for(sub { !kill 0, $pid }, 30);
    kill 'KILL', $pid if kill 0, $pid;
}

# psql's answer, rows as lines, columns split by |
# a child holding TABLE locked (ACCESS EXCLUSIVE) for $secs s: its pid
sub lock_table {
    my ($self, $table, $secs) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        $self->psql("BEGIN; LOCK TABLE $table IN ACCESS EXCLUSIVE MODE; "
                    . "SELECT pg_sleep($secs); COMMIT;");
        POSIX::_exit(0);
    }
    return $pid;
}

# a session of the test's own holding advisory lock $key (a gate a
# trigger of the test waits on) until the handle is closed; undef if it
# did not get it in 10 s
sub pg_gate {
    my ($self, $key) = @_;
    open(my $gate, '|-', pg_bin() . '/psql', '-X', '-q', '-o', '/dev/null',
         '-h', $self->{pg_dir}, '-U', 'faas', '-d', 'postgres')
        or die "psql: $!";
    $gate->autoflush(1);
    print $gate "SELECT pg_advisory_lock($key);\n";
    return wait_for(sub { $self->psql("SELECT count(*) FROM pg_locks WHERE "
                        . "locktype = 'advisory' AND objid = $key AND "
                        . 'granted') eq "1\n" }, 10) ? $gate : undef;
}

# each commit waits for a standby that is not there ($on), or no more:
# true once the server says so
sub pg_sync_standby {
    my ($self, $on) = @_;
    $self->psql($on ? "ALTER SYSTEM SET synchronous_standby_names = "
                      . "'nostandby'"
                    : 'ALTER SYSTEM RESET synchronous_standby_names');
    $self->psql('SELECT pg_reload_conf()');
    my $want = $on ? "nostandby\n" : "\n";
    return wait_for(sub { $self->psql('SHOW synchronous_standby_names')
                          eq $want }, 10);
}

sub psql {
    my ($self, $sql) = @_;
    my $bin = pg_bin();
    open(my $fh, '-|', "$bin/psql", '-X', '-A', '-t', '-q', '-h',
         $self->{pg_dir}, '-U', 'faas', '-d', 'postgres', '-c', $sql)
        or die "psql: $!";
    local $/;
    my $out = <$fh>;
    close $fh;
    return $out // '';
}

sub as_user {
    my ($uid, $gid, @cmd) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open(STDOUT, '>', '/dev/null');
        POSIX::setgid($gid);
        $) = "$gid $gid";
        POSIX::setuid($uid);
        chdir '/';
        exec @cmd or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    return $? >> 8;
}

sub kill_all {
    my ($self) = @_;
    # a child the test forked has a copy of the object, not its processes
    return if $$ != $owner;
    for my $pid (grep { $_ } @$self{qw(nginx_pid runner_pid php_fpm_pid)}) {
        my @kids = proc_children($pid);
        kill 'KILL', $pid, @kids;
        waitpid($pid, 0);
    }
    delete @$self{qw(nginx_pid runner_pid php_fpm_pid)};
    kill 'KILL', delete $self->{pg_pid} if $self->{pg_pid};
    kill 'KILL', $self->leftovers if $self->{prefix};
}

sub DESTROY {
    my ($self) = @_;
    # the test's exit status stays its own (waitpid sets $?)
    local $?;
    delete $live{"$self"};
    $self->kill_all;
}


# --- HTTP ----------------------------------------------------------------

# $o{port}: another of the test's servers than $self->{port}
sub http {
    my ($self, $request, %o) = @_;
    my $port = delete $o{port} // $self->{port};

    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5)
        or return undef;

    return http_exchange($s, $request, %o);
}

sub http_exchange {
    my ($s, $request, %o) = @_;

    $s->blocking(0);
    my $sel = IO::Select->new($s);
    my $out = $request;
    my $in = '';
    my $end = time + ($o{timeout} // 30);

    while (time < $end) {
        my ($r, $w) = IO::Select->select($sel, length $out ? $sel : undef,
                                         undef, 0.5);
        if ($w && @$w) {
            my $n = syswrite($s, $out, 262144);
            substr($out, 0, $n, '') if $n;
            # the server may answer and close before it read it all
            $out = '' if !defined $n && !$!{EAGAIN};
        }
        if ($r && @$r) {
            my $n = sysread($s, my $buf, 262144);
            last if !$n && !(defined $n ? 0 : $!{EAGAIN});
            $in .= $buf if $n;
            last if $o{until} && $in =~ $o{until};
        }
    }

    close $s;
    return http_parse($in);
}

# starts a request, returns the socket; http_finish() reads the answer
sub http_start {
    my ($self, $uri) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$self->{port}",
                                  Timeout => 5) or die "connect: $!";
    syswrite($s, "GET $uri HTTP/1.0\r\nHost: localhost\r\n\r\n");
    return $s;
}

sub http_finish {
    my ($s, %o) = @_;
    return http_exchange($s, '', %o);
}

sub http_get {
    my ($self, $uri, %o) = @_;
    my $h = $o{headers} // '';
    return $self->http("GET $uri HTTP/1.0\r\nHost: localhost\r\n$h\r\n", %o);
}

# load from a child: GET $uri again and again for $secs seconds; the
# statuses counted ("200=1234 502=1"), read with load_result
sub load_start {
    my ($self, $uri, $secs) = @_;
    pipe(my $rd, my $wr) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        close $rd;
        my %n;
        my $end = time + $secs;
        while (time < $end) {
            my $x = eval { $self->http_get($uri, timeout => 30) };
            $n{$x ? $x->{status} : "error($@)"}++;
        }
        print $wr join(' ', map { "$_=$n{$_}" } sort keys %n), "\n";
        close $wr;
        POSIX::_exit(0);
    }
    close $wr;
    return [$pid, $rd];
}

sub load_result {
    my ($l) = @_;
    my $rd = $l->[1];
    my $res = <$rd> // 'nothing';
    waitpid($l->[0], 0);
    chomp $res;
    return $res;
}

sub http_post {
    my ($self, $uri, $body, %o) = @_;
    my $h = $o{headers} // '';
    return $self->http("POST $uri HTTP/1.0\r\nHost: localhost\r\n"
                       . "Content-Length: " . length($body) . "\r\n$h\r\n"
                       . $body, %o);
}

# "HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody" or a CGI header block
sub http_parse {
    my ($raw) = @_;
    return undef unless defined $raw && length $raw;

    my ($head, $body) = split /\r?\n\r?\n/, $raw, 2;
    $body //= '';
    my @lines = split /\r?\n/, $head;
    my %r = (raw => $raw, headers => {}, body => $body);

    if (@lines && $lines[0] =~ m{^HTTP/\d\.\d (\d+)}) {
        $r{status} = $1;
        $r{status_line} = shift @lines;
    }

    for (@lines) {
        next unless /^([^:]+):\s*(.*)$/;
        push @{ $r{headers}{lc $1} }, $2;
    }

    $r{status} //= ($r{headers}{status} && $r{headers}{status}[0] =~ /^(\d+)/)
                   ? $1 : 200;

    if (($r{headers}{'transfer-encoding'} // [''])->[0] =~ /chunked/i) {
        my ($b, $rest) = ('', $body);
        while ($rest =~ s/^([0-9a-fA-F]+)[^\n]*\r\n//) {
            my $n = hex $1;
            last if $n == 0;
            $b .= substr($rest, 0, $n, '');
            $rest =~ s/^\r\n//;
        }
        $r{body} = $b;
    }

    return \%r;
}

sub header {
    my ($r, $name) = @_;
    return $r->{headers}{lc $name} ? $r->{headers}{lc $name}[0] : undef;
}


# --- FastCGI -------------------------------------------------------------

sub fcgi_record {
    my ($type, $id, $content, $pad) = @_;
    $content //= '';
    $pad //= (8 - length($content) % 8) % 8;
    return pack('CCnnCC', 1, $type, $id, length $content, $pad, 0)
           . $content . ("\0" x $pad);
}

sub fcgi_len {
    my ($n) = @_;
    return $n < 128 ? chr($n) : pack('N', $n | 0x80000000);
}

sub fcgi_params {
    my (@pairs) = @_;
    my $s = '';
    while (my ($k, $v) = splice @pairs, 0, 2) {
        $s .= fcgi_len(length $k) . fcgi_len(length $v) . $k . $v;
    }
    return $s;
}

# a whole request as bytes; params a list of pairs
sub fcgi_request_bytes {
    my (%o) = @_;
    my $id = $o{id} // 1;
    my $keep = $o{keep} // 1;
    my $params = fcgi_params(@{ $o{params} // [] });
    my $stdin = $o{stdin} // '';

    my $b = fcgi_record(FCGI_BEGIN_REQUEST, $id,
                        pack('nCx5', $o{role} // 1, $keep ? 1 : 0));
    while (length $params) {
        $b .= fcgi_record(FCGI_PARAMS, $id, substr($params, 0, 65535, ''));
    }
    $b .= fcgi_record(FCGI_PARAMS, $id, '');
    return $b if $o{no_stdin};
    while (length $stdin) {
        $b .= fcgi_record(FCGI_STDIN, $id, substr($stdin, 0, 65535, ''));
    }
    $b .= fcgi_record(FCGI_STDIN, $id, '');
    return $b;
}

sub fcgi_connect {
    my ($self) = @_;
    my $s = IO::Socket::UNIX->new(Peer => $self->{socket}, Type => SOCK_STREAM)
        or die "connect $self->{socket}: $!";
    return $s;
}

# later pairs replace earlier ones of the same name
sub fcgi_default_params {
    my ($fn, @more) = @_;
    my @p = (FAAS_FUNCTION => $fn, REQUEST_METHOD => 'GET',
             SCRIPT_NAME => "/fn/$fn", QUERY_STRING => '',
             SERVER_PROTOCOL => 'HTTP/1.1');
    while (my ($k, $v) = splice @more, 0, 2) {
        my $i = 0;
        $i += 2 while $i < @p && $p[$i] ne $k;
        @p[$i, $i + 1] = ($k, $v);
    }
    return \@p;
}

# writes $bytes (in pieces of $o{split} bytes, if given), then reads
# records until END_REQUEST of $o{id} (or EOF, or timeout)
sub fcgi_exchange {
    my ($s, $bytes, %o) = @_;

    my $split = $o{split};
    my @pieces = $split ? (unpack("(a$split)*", $bytes)) : ($bytes);

    for my $p (@pieces) {
        my $off = 0;
        while ($off < length $p) {
            my $n = syswrite($s, $p, length($p) - $off, $off);
            last unless defined $n;
            $off += $n;
        }
        sleep($o{pause}) if $o{pause};
    }

    return fcgi_read($s, %o);
}

sub fcgi_read {
    my ($s, %o) = @_;

    my %r = (stdout => '', stderr => '', records => [], eof => 0);
    my $buf = '';
    my $sel = IO::Select->new($s);
    my $end = time + ($o{timeout} // 30);
    my $want_end = $o{until_end} // 1;

    while (time < $end) {
        while (length $buf >= 8) {
            my ($v, $type, $id, $len, $pad) = unpack('CCnnC', $buf);
            last if length $buf < 8 + $len + $pad;
            my $c = substr($buf, 8, $len);
            substr($buf, 0, 8 + $len + $pad, '');
            push @{ $r{records} }, [ $type, $id, $c ];
            $r{stdout} .= $c if $type == FCGI_STDOUT;
            $r{stderr} .= $c if $type == FCGI_STDERR;
            if ($type == FCGI_END_REQUEST) {
                @r{qw(app_status protocol_status)} = unpack('NC', $c);
                $r{end_id} = $id;
                $r{ended} = 1;
                last if $want_end;
            }
            last if $o{until_type} && $type == $o{until_type};
        }

        last if $r{ended} && $want_end;
        last if $o{until_type} && grep { $_->[0] == $o{until_type} }
                                       @{ $r{records} };

        my @ready = $sel->can_read(0.5);
        next unless @ready;
        my $n = sysread($s, my $chunk, 262144);
        if (!$n) {
            $r{eof} = 1;
            last;
        }
        $buf .= $chunk;
    }

    $r{http} = http_parse($r{stdout});
    return \%r;
}

sub port { $_[0]{port} //= free_port() }

# a FastCGI responder of our own in place of the runner: for each
# request, $answer->(\%params, $stdin) gives the bytes to send back
# (records, in pieces of $o{split} bytes) and whether to close the
# connection after them. Stopped by done().
sub fake_upstream {
    my ($self, $answer, %o) = @_;

    unlink $self->{socket};
    my $l = IO::Socket::UNIX->new(Local => $self->{socket},
                                  Type => SOCK_STREAM, Listen => 16)
        or die "listen $self->{socket}: $!";
    chmod 0666, $self->{socket};

    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        alarm 0;
        while (my $c = $l->accept) {
            fake_serve($c, $answer, %o);
            close $c;
        }
        POSIX::_exit(0);
    }

    close $l;
    push @{ $self->{fakes} }, $pid;
    return $pid;
}

sub fake_serve {
    my ($c, $answer, %o) = @_;
    my ($buf, $pbytes, $stdin, $keep, %params) = ('', '', '', 0);

    while (1) {
        while (length $buf >= 8) {
            my ($v, $type, $id, $len, $pad) = unpack('CCnnC', $buf);
            last if length $buf < 8 + $len + $pad;
            my $content = substr($buf, 8, $len);
            substr($buf, 0, 8 + $len + $pad, '');
            $keep = ord(substr($content, 2, 1)) & 1
                if $type == FCGI_BEGIN_REQUEST;
            $pbytes .= $content if $type == FCGI_PARAMS;
            $stdin .= $content if $type == FCGI_STDIN;
            next unless $type == FCGI_STDIN && $len == 0;

            while (length $pbytes) {
                my @l;
                for (1, 2) {
                    my $b = ord $pbytes;
                    push @l, $b < 128 ? unpack('C', substr($pbytes, 0, 1, ''))
                        : unpack('N', substr($pbytes, 0, 4, '')) & 0x7fffffff;
                }
                my $k = substr($pbytes, 0, $l[0], '');
                $params{$k} = substr($pbytes, 0, $l[1], '');
            }

            # (an answer may ask for the connection to be closed after it)
            my ($out, $close) = $answer->(\%params, $stdin);
            my @pieces = $o{split} ? unpack("(a$o{split})*", $out) : ($out);
            for (@pieces) {
                syswrite($c, $_);
                sleep($o{pause}) if $o{pause};
            }
            return if !$keep || $close;
            ($pbytes, $stdin, %params) = ('', '');
        }
        my $n = sysread($c, my $chunk, 65536);
        return unless $n;
        $buf .= $chunk;
    }
}

sub fcgi_call {
    my ($self, $fn, %o) = @_;
    my $s = $self->fcgi_connect;
    my $r = fcgi_exchange($s, fcgi_request_bytes(
                params => fcgi_default_params($fn, @{ $o{params} // [] }),
                stdin => $o{stdin}, keep => 0), %o);
    $r->{http} = http_parse($r->{stdout});
    return $r;
}

1;
