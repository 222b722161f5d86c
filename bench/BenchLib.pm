package BenchLib;

# What bench/store.pl and bench/python.pl share: a wrk run read back,
# wrk's times in ms, a median.

use strict;
use warnings;

use Exporter 'import';
our @EXPORT_OK = qw(wrk ms median);

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

1;
