package BenchLib;

# What bench/store.pl, bench/python.pl and bench/php.pl share: a wrk
# run read back, wrk's times in ms, a median, a request timed, the
# memory of a process, the end of what a bench started.

use strict;
use warnings;

use Exporter 'import';
use POSIX ();
use Time::HiRes ();
our @EXPORT_OK = qw(settings wrk ms median interleaved versus timed_get
                    pss private_kb stop_pids report);

# BENCH_QUICK, BENCH_DURATION, BENCH_ROUNDS: (quick, seconds a wrk run,
# rounds, cold samples)
sub settings {
    my $quick = $ENV{BENCH_QUICK};
    return ($quick, $ENV{BENCH_DURATION} // ($quick ? 2 : 8),
            $ENV{BENCH_ROUNDS} // ($quick ? 1 : 3), $quick ? 7 : 21);
}

# wrk at $c connections for $secs against $url: req/s, p99 (ms), non-2xx
sub wrk {
    my ($url, $c, $secs) = @_;
    my $out = `ulimit -n 65536 2>/dev/null; wrk -t2 -c$c -d${secs}s --latency $url 2>&1`;
    my ($rps) = $out =~ /Requests\/sec:\s+([\d.]+)/;
    my ($p99) = $out =~ /^\s+99%\s+([\d.]+\w+)/m;
    my ($non2xx) = $out =~ /Non-2xx or 3xx responses:\s+(\d+)/;
    return { rps => $rps // 0, p99 => ms($p99), bad => $non2xx // 0 };
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
