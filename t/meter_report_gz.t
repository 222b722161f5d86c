#!/usr/bin/perl

# fcgi-runner meter over the logs logrotate leaves: Debian's nginx
# rotates /var/log/nginx/*.log with "compress" and "delaycompress", so
# "faas.log*" (README, "The usage report") is faas.log, faas.log.1 and
# faas.log.2.gz... A compressed log is read as the plain one is, not
# skipped as lines not of the format (a month's bill was its last two
# days, exit 0); one cut short is said, exit 1.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;

my $t = FaasTest->new;
my $p = $t->prefix;
my $bin = "$FaasTest::BUILD/fcgi-runner";

sub line {
    my ($day, $fn) = @_;
    return "time=2026-11-${day}T03:06:37+00:00 function=$fn tenant=acme "
           . "status=200 outcome=ok duration=20.823 billed=21.000 "
           . "init=0.000 cold=0 cpu=0.410 memory=1720 memory_size=131072\n";
}

sub write_log {
    my ($file, @lines) = @_;
    open my $fh, '>', $file or die "$file: $!";
    print $fh @lines;
    close $fh;
}

write_log("$p/faas.log", line(27, 'alpha'));
write_log("$p/faas.log.1", line(26, 'alpha'), line(26, 'beta'));
write_log("$p/faas.log.2", (line(25, 'alpha')) x 3, line(25, 'beta'));
write_log("$p/faas.log.3", (line(24, 'beta')) x 5000);
is(system('gzip', '-9', "$p/faas.log.2", "$p/faas.log.3"), 0,
   'two older logs gzip-compressed, as logrotate leaves them');

my $out = `$bin meter --format json $p/faas.log $p/faas.log.1 $p/faas.log.2.gz $p/faas.log.3.gz 2>/dev/null`;
is($? >> 8, 0, 'meter over plain and compressed logs exits 0');
my $j = eval { decode_json($out) } // {};
my %g = map { $_->{name} => $_ } @{ $j->{groups} // [] };
is($j->{lines}, 5007, 'every line of them read');
is($j->{skipped}, 0, 'none skipped');
is($g{alpha}{invocations}, 5, 'alpha: 1 + 1 + 3 invocations');
is($g{beta}{invocations}, 5002, 'beta: 1 + 1 + 5000');

# from stdin too
$out = `cat $p/faas.log.2.gz | $bin meter --format json - 2>/dev/null`;
$j = eval { decode_json($out) } // {};
is($j->{lines}, 4, 'a compressed log on stdin: its 4 lines');

# cut short (copied while logrotate compressed it): said, exit 1
my $gz = FaasTest::read_file("$p/faas.log.3.gz");
open my $fh, '>', "$p/cut.gz" or die;
print $fh substr($gz, 0, int(length($gz) / 2));
close $fh;
my $err = `$bin meter $p/cut.gz 2>&1 >/dev/null`;
is($? >> 8, 1, 'a compressed log cut short: exit 1');
like($err, qr/cannot read "\Q$p\E\/cut\.gz"/, '... and said');

# cut in the middle of a line (a stored gzip block, cut at a byte):
# the fragment "duration=9" of 90 s is no invocation of 9 ms
(my $long = line(24, 'gamma')) =~ s/duration=20\.823/duration=90000.000/;
my $whole = line(24, 'alpha') . $long;
write_log("$p/stored", $whole);
is(system('python3', '-c', 'import gzip, sys; '
          . 'd = open(sys.argv[1], "rb").read(); '
          . 'g = gzip.compress(d, compresslevel=0); '
          . 'open(sys.argv[1] + ".gz", "wb").write('
          . 'g[:g.index(d[:20]) + d.index(b"duration=90000") + 10])',
          "$p/stored"), 0, 'a stored gzip cut in its last line');
$out = `$bin meter --format json $p/faas.log $p/stored.gz 2>/dev/null`;
is($? >> 8, 1, '... exit 1');
$j = eval { decode_json($out) } // {};
%g = map { $_->{name} => $_ } @{ $j->{groups} // [] };
is($j->{lines}, 2, '... its whole lines read, not the fragment');
ok(!exists $g{gamma}, '... the fragment billed as no invocation')
    or diag explain $g{gamma};

# a gzip bomb: 300 MB of one line (some KB compressed) between two of
# the format.  The report reads it in its blocks, the line skipped and
# counted, its memory never the line's: under 64 MiB of address space
# the line after it is billed (getline() grew to the line's size: out
# of memory it ended the report there, exit 0, the rest of a month lost)
is(system('python3', '-c', 'import sys, zlib; '
          . 'z = zlib.compressobj(9, zlib.DEFLATED, 31); '
          . 'f = open(sys.argv[1], "wb"); '
          . 'f.write(z.compress(sys.argv[2].encode())); '
          . '[f.write(z.compress(b"x" * (1 << 20))) for i in range(300)]; '
          . 'f.write(z.compress(b"\\n" + b"function=nul\\0 x\\n" '
          . '+ sys.argv[3].encode())); '
          . 'f.write(z.flush())',
          "$p/bomb.gz", line(23, 'alpha'), line(23, 'beta')), 0,
   'a gzip of a 300 MB line between two of the format');
ok(-s "$p/bomb.gz" < 2 * 1024 * 1024, '... some KB of it compressed');
$out = `prlimit --as=67108864 $bin meter --format json $p/bomb.gz 2>$p/bomb.err`;
$err = FaasTest::read_file("$p/bomb.err");
is($? >> 8, 0, 'meter over it, in 64 MiB of address space: exit 0')
    or diag $err;
$j = eval { decode_json($out) } // {};
%g = map { $_->{name} => $_ } @{ $j->{groups} // [] };
is($j->{lines}, 4, '... its 4 lines counted');
is($g{alpha}{invocations}, 1, '... the line before the long one billed');
is($g{beta}{invocations}, 1,
   '... the line after it billed, and the one after a NUL byte');
like($err, qr/"\Q$p\E\/bomb\.gz": 1 line\(s\) over 1048576 bytes skipped/,
     '... the long line said');

done_testing();
