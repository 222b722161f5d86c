#!/usr/bin/perl

# What the function of an asynchronous, scheduled or destination run
# writes to stderr goes to the runner's log like any worker's, escaped,
# a line a log line, tagged with the invocation's id: a CGI's stderr and
# a FastCGI worker's FCGI_STDERR alike.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;
my $fn = $t->testfn;

my $cgi = <<'EOF';
#!/bin/sh
echo "cgi says hello on stderr" >&2
printf 'second line, \033[31m escaped\n' >&2
printf 'Content-Type: text/plain\r\n\r\nok\n'
EOF

my $tick = <<'EOF';
#!/bin/sh
echo "tick on stderr, trigger $FAAS_TRIGGER" >&2
printf 'Content-Type: text/plain\r\n\r\nok\n'
EOF

my $dest = <<'EOF';
#!/bin/sh
cat > /dev/null
echo "destination on stderr, trigger $FAAS_TRIGGER" >&2
printf 'Content-Type: text/plain\r\n\r\nok\n'
EOF

# a flood of short lines: a log line each, 32,768 for 64 KB of "a\n"
my $flood = <<'EOF';
#!/bin/sh
awk 'BEGIN { for (i = 0; i < 40000; i++) print "a" > "/dev/stderr" }'
printf 'Traceback, its last line: boom\n' >&2
printf 'Content-Type: text/plain\r\n\r\nok\n'
EOF

# one line of 1 MB with no end, then its last words
my $long = <<'EOF';
#!/bin/sh
head -c 1048576 /dev/zero | tr '\0' x >&2
printf 'the end of the long line' >&2
printf 'Content-Type: text/plain\r\n\r\nok\n'
EOF

$t->function('flood', "exec = ./run\nmode = cgi\n", run => $flood);
$t->function('long', "exec = ./run\nmode = cgi\n", run => $long);
$t->function('cerr', "exec = ./run\nmode = cgi\non_success = dest\n",
             run => $cgi);
$t->function('ferr', "exec = $fn\n");
$t->function('dest', "exec = ./run\nmode = cgi\n", run => $dest);
$t->function('tick', "exec = ./run\nmode = cgi\nschedule = \@every 1s\n",
             run => $tick);

$t->start_runner;
$t->start_nginx($t->faas_location(extra => <<'EOF'));
        location /async/ {
            faas_route ^/async/(?<afn>[^/?]+) $afn;
            faas_invocation async;
            faas_pass runner;
        }
EOF

my $id = qr/[0-9a-f]{32}/;

# a CGI's stderr
my $r = $t->http_post('/async/cerr', 'x');
is($r->{status}, 202, 'cgi: accepted');
my $cid = FaasTest::header($r, 'faas-invocation-id') // 'none';
ok($t->wait_log(qr/invocation \Q$cid\E of "cerr" stderr: "cgi says hello/),
   'cgi: its stderr is logged with its invocation id');
like($t->runner_log,
     qr/invocation \Q$cid\E of "cerr" stderr: "second line, \\x1b\[31m /,
     'cgi: a line a log line, escaped');

# a FastCGI worker's FCGI_STDERR
$r = $t->http_post('/async/ferr?op=stderr', 'x');
is($r->{status}, 202, 'fastcgi: accepted');
my $fid = FaasTest::header($r, 'faas-invocation-id') // 'none';
ok($t->wait_log(qr/invocation \Q$fid\E of "ferr" stderr: "testfn says hello/),
   'fastcgi: its FCGI_STDERR is logged with its invocation id');

# a destination's and a schedule's
ok($t->wait_log(qr/invocation $id of "dest" stderr: "destination on stderr, /
                . qr/trigger destination"$/m),
   'destination: its stderr is logged with its invocation id');
ok($t->wait_log(qr/invocation $id of "tick" stderr: "tick on stderr, /
                . qr/trigger schedule"$/m),
   'schedule: its stderr is logged with its invocation id');

# the flood: a bound on its log lines, then said
$r = $t->http_post('/async/flood', 'x');
is($r->{status}, 202, 'a flood of short lines: accepted');
my $lid = FaasTest::header($r, 'faas-invocation-id') // 'none';
ok($t->wait_log(qr/invocation \Q$lid\E of "flood": its stderr past 65536 /
                . qr/bytes of log is not logged/),
   '... the rest said not logged');
ok($t->wait_log(qr/invocation \Q$lid\E of "flood": 200/), '... it succeeded');
my ($head, $tail) = split /invocation \Q$lid\E of "flood": the last \d+ bytes of its stderr follow/,
                          $t->runner_log, 2;
$tail //= '';
my $lines = () = ($head // '') =~ /invocation \Q$lid\E of "flood" stderr: /g;
cmp_ok($lines, '<=', 600, "... after $lines log lines (a line's own bytes "
       . 'count)');
cmp_ok($lines, '>=', 400, '... not far fewer');
like($tail, qr/\A[^\n]*\n(?:[^\n]*invocation \Q$lid\E of "flood" stderr: "a"\n)+[^\n]*invocation \Q$lid\E of "flood" stderr: "Traceback, its last line: boom"\n/,
     '... then its last lines, at its end: its last words among them');
my $last = () = $tail =~ /invocation \Q$lid\E of "flood" stderr: /g;
cmp_ok($last, '<=', 64, "... $last of them: 8 KB of log, a line's own "
       . 'bytes counted');
cmp_ok($last, '>=', 50, '... not far fewer');
unlike($tail, qr/"flood": 200.*of "flood" stderr: /s,
       '... before its outcome');

# a line with no end: cut in pieces, its last bytes logged
$r = $t->http_post('/async/long', 'x');
my $gid = FaasTest::header($r, 'faas-invocation-id') // 'none';
ok($t->wait_log(qr/invocation \Q$gid\E of "long": 200/),
   'one line of 1 MB: it succeeded');
my $glog = $t->runner_log;
like($glog, qr/invocation \Q$gid\E of "long" stderr: "x+the end of the long line"/,
     '... its last bytes logged at its end');
my $glines = () = $glog =~ /invocation \Q$gid\E of "long" stderr: /g;
cmp_ok($glines, '<=', 103 + 13, "... $glines log lines in all, 512 bytes "
       . 'each (64 KB of log, then 8 KB)');
unlike($t->runner_log, qr/"flood": \d+ bytes of stderr past \d+ a request not sent to nginx/,
       '... no word of nginx, which it has none of');

$t->done;

done_testing;
