package BenchLib;

# What bench/store.pl, bench/python.pl and bench/php.pl share: a wrk
# run read back, wrk's times in ms, a median, a request timed, the
# memory of a process, the CPU a request costs each process of a
# setup, the end of what a bench started.

use strict;
use warnings;

use Exporter 'import';
use POSIX ();
use Time::HiRes ();
our @EXPORT_OK = qw(settings wrk ms median interleaved versus timed_get
                    pss private_kb cpu_per_request stop_pids report);

# BENCH_QUICK, BENCH_DURATION, BENCH_ROUNDS: (quick, seconds a wrk run,
# rounds, cold samples)
sub settings {
    my $quick = $ENV{BENCH_QUICK};
    return ($quick, $ENV{BENCH_DURATION} // ($quick ? 2 : 8),
            $ENV{BENCH_ROUNDS} // ($quick ? 1 : 3), $quick ? 7 : 21);
}

# wrk at $c connections for $secs against $url: req/s, p99 (ms), non-2xx,
# requests in all
sub wrk {
    my ($url, $c, $secs) = @_;
    my $threads = $c < 2 ? 1 : 2;
    my $out = `ulimit -n 65536 2>/dev/null; wrk -t$threads -c$c -d${secs}s --latency $url 2>&1`;
    my ($rps) = $out =~ /Requests\/sec:\s+([\d.]+)/;
    my ($p99) = $out =~ /^\s+99%\s+([\d.]+\w+)/m;
    my ($non2xx) = $out =~ /Non-2xx or 3xx responses:\s+(\d+)/;
    my ($n) = $out =~ /^\s*(\d+) requests in/m;
    return { rps => $rps // 0, p99 => ms($p99), bad => $non2xx // 0,
             n => $n // 0 };
}

sub ms {
    my ($s) = @_;
    return 0 unless defined $s;
    my ($v, $u) = $s =~ /([\d.]+)(\w+)/;
    return $u eq 'us' ? $v / 1000 : $u eq 's' ? $v * 1000 : $v;
}

sub median {
    my @s = sort { $a <=> $b } grep { defined } @_;
    return 0 unless @s;
    return @s % 2 ? $s[$#s / 2] : ($s[@s / 2 - 1] + $s[@s / 2]) / 2;
}

# wrk on each of %url (name => URL) at each number of connections of
# @$conns, interleaved, $rounds times: "NAME C" => the medians (rps,
# p99) and the non-2xx summed
sub interleaved {
    my ($conns, $rounds, $dur, %url) = @_;
    my (%w, %med);
    for my $c (@$conns) {
        for (1 .. $rounds) {
            push @{ $w{"$_ $c"} }, wrk($url{$_}, $c, $dur) for sort keys %url;
        }
    }
    for my $k (keys %w) {
        $med{$k} = { rps => median(map { $_->{rps} } @{ $w{$k} }),
                     p99 => median(map { $_->{p99} } @{ $w{$k} }),
                     bad => 0 };
        $med{$k}{bad} += $_->{bad} for @{ $w{$k} };
    }
    return %med;
}

# the lines of interleaved()'s "faas C" against "$peer C", each C: req/s,
# p99, the ratio, non-2xx; $label names the peer
sub versus {
    my ($med, $conns, $peer, $label) = @_;
    my $out = '';
    for my $c (@$conns) {
        my ($f, $g) = ($med->{"faas $c"}, $med->{"$peer $c"});
        $out .= sprintf "  %d connections: faas %.0f req/s (p99 %.2f ms), "
                      . "%s %.0f req/s (p99 %.2f ms): %.2fx%s\n", $c,
                      $f->{rps}, $f->{p99}, $label, $g->{rps}, $g->{p99},
                      $f->{rps} / ($g->{rps} || 1),
                      ($f->{bad} || $g->{bad})
                      ? " ($f->{bad}/$g->{bad} non-2xx)" : '';
    }
    return $out;
}

# prints $out and adds it to build/bench.txt
sub report {
    my ($out) = @_;
    print $out;
    my $bench = "$FaasTest::BUILD/bench.txt";
    FaasTest::write_file($bench, (-e $bench ? FaasTest::read_file($bench)
                                            : '') . $out);
}

# GET $uri from $t's nginx: ms to a 200, undef (and a warning) otherwise
sub timed_get {
    my ($t, $uri) = @_;
    my $t0 = Time::HiRes::time();
    my $r = $t->http_get($uri);
    my $dt = (Time::HiRes::time() - $t0) * 1000;
    warn "$uri: " . ($r ? $r->{status} : "no answer") . "\n"
        unless $r && $r->{status} == 200;
    return ($r && $r->{status} == 200) ? $dt : undef;
}

# a process's proportional set (its shared pages divided among their
# users), in kB
sub pss {
    my ($pid) = @_;
    my ($kb) = (FaasTest::read_file("/proc/$pid/smaps_rollup") // '')
               =~ /^Pss:\s+(\d+)/m;
    return $kb // 0;
}

# its pages no other process has (Private_Clean + Private_Dirty), in kB
sub private_kb {
    my ($pid) = @_;
    my $s = FaasTest::read_file("/proc/$pid/smaps_rollup") // '';
    my $kb = 0;
    $kb += $1 while $s =~ /^Private_(?:Clean|Dirty):\s+(\d+)/mg;
    return $kb;
}

# the CPU time (ns) each of @pids has had so far, all its threads
# (schedstat: the scheduler's own count, not the clock ticks of stat)
sub cpu_ns {
    my %ns;
    for my $pid (@_) {
        for my $f (glob "/proc/$pid/task/*/schedstat") {
            my ($v) = (FaasTest::read_file($f) // '') =~ /^(\d+)/;
            $ns{$pid} += $v // 0;
        }
    }
    return %ns;
}

# wrk at $c connections for $secs against $url, and the CPU a request
# cost each set of processes of %set (NAME => a sub listing its pids,
# asked before and after): { NAME => us, total => us, wrk => wrk() }. A
# process that starts during the run counts from 0; one that ends takes
# its time with it, so its set is marked "gone" (and the figure is low).
sub cpu_per_request {
    my ($url, $c, $secs, %set) = @_;
    my %before = map { $_ => { cpu_ns($set{$_}->()) } } keys %set;
    my $w = wrk($url, $c, $secs);
    my %r = (wrk => $w, total => 0);
    for my $name (keys %set) {
        my %after = cpu_ns($set{$name}->());
        my $ns = 0;
        $ns += $after{$_} - ($before{$name}{$_} // 0) for keys %after;
        $r{gone} .= " $name" if grep { !exists $after{$_} }
                                keys %{ $before{$name} };
        $r{$name} = $ns / 1000 / ($w->{n} || 1);
        $r{total} += $r{$name};
    }
    return \%r;
}

# $t's nginx and runner, then each of @pids by $sig (KILL after 10 s)
sub stop_pids {
    my ($t, $sig, @pids) = @_;
    $t->stop_nginx;
    $t->stop_runner;
    kill $sig, @pids;
    for my $pid (@pids) {
        FaasTest::wait_for(sub { waitpid($pid, POSIX::WNOHANG()) != 0 }, 10)
            or do { kill 'KILL', $pid; waitpid($pid, 0) };
    }
}

1;
