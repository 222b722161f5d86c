#!/usr/bin/perl

# A function that answers "Status: abc" answered garbage: the client
# gets 502 and the invocation's outcome is "error" (in $faas_status, the
# runner's status, meter_log), never "ok", whether it is a FastCGI or a
# CGI function, run synchronously or asynchronously (then it is tried
# again, and fails). Valid statuses are untouched. The JSON that
# destinations get keeps UTF-8 text as it is; bytes that are no UTF-8
# become U+FFFD, never a character per byte.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use File::Path qw(make_path);
use Test::More;
use JSON::PP;

my $t = FaasTest->new;
my $fn = $t->testfn;

$t->function('fbad', "exec = $fn\n");
$t->function('cbad', "exec = ./run.sh\nmode = cgi\n", 'run.sh' => <<'EOF');
#!/bin/sh
printf 'Content-Type: text/plain\r\nStatus: abc\r\n\r\ngarbage\n'
EOF
$t->function('cbig', "exec = ./run.sh\nmode = cgi\n", 'run.sh' => <<'EOF');
#!/bin/sh
printf 'Status: 2000 Too Much\r\n\r\ngarbage\n'
EOF
# a status that quotes: its text in a log line must not pass for ours
$t->function('cquote', "exec = ./run.sh\nmode = cgi\n", 'run.sh' => <<'EOF');
#!/bin/sh
printf 'Status: 200x" for function "victim\033[2J\r\n\r\nquote\n'
EOF
$t->function('cfine', "exec = ./run.sh\nmode = cgi\n", 'run.sh' => <<'EOF');
#!/bin/sh
printf 'Status:418 I am a teapot with a very long reason phrase indeed, yes\r\n\r\ntea\n'
EOF
# where the runner took a header block otherwise than nginx does: the
# first Status: is the answer's, a CR before the line's end is nothing,
# a tab before the value is in it, a CR in a value is nginx's 502
my %as_nginx = (
    cdup  => "Status: 201 Made\r\nStatus: bogus\r\n",
    ccrcr => "Status: 202\r\r\n",
    ctab  => "Status:\t200\r\n",
    ccr   => "X-A: a\rb\r\n",
);
for my $f (keys %as_nginx) {
    (my $h = $as_nginx{$f}) =~ s/([\r\t])/$1 eq "\r" ? '\r' : '\t'/ge;
    $t->function($f, "exec = ./run.sh\nmode = cgi\n",
                 'run.sh' => "#!/bin/sh\nprintf '${h}Content-Type: "
                             . "text/plain\\r\\n\\r\\n$f\\n'\n");
}
# succeeds with UTF-8 text, a stray byte, a cut sequence, a control
my $dir = $t->function('text', "exec = ./run.sh\nmode = cgi\n"
                       . "on_success = dest\n", 'run.sh' => <<'EOF');
#!/bin/sh
printf 'Content-Type: text/plain; charset=utf-8\r\n\r\n'
printf 'caf\303\251 \342\202\254 \360\237\230\200 x\377y \342\202 z\001"\\'
EOF
my $dest = $t->function('dest', "exec = ./run.sh\nmode = cgi\n",
                        'run.sh' => <<'EOF');
#!/bin/sh
{ cat; echo; } >> out/log
printf 'Content-Type: text/plain\r\n\r\nok\n'
EOF
make_path("$dest/out");
chmod 0777, "$dest/out";

my $meter = $t->prefix . '/logs/meter.log';
$t->start_runner(conf => "meter_log = $meter\nasync_retries = 1\n"
                 . "async_backoff = 100ms\n");
my $log = $t->prefix . '/logs/access.log';
my $used = $t->prefix . '/logs/used.log';
$t->start_nginx("    log_format m '\$faas_function \$status \$faas_status';\n"
                . "    log_format u '\$faas_function init=\$faas_init_duration "
                . "cpu=\$faas_cpu_time memory=\$faas_max_memory';\n"
                . $t->faas_location(location => "access_log $log m; "
                                                . "access_log $used u;"));

my $r = $t->http_get('/fn/fbad?op=badstatus');
is($r->{status}, 502, 'FastCGI function, "Status: abc": 502');
$r = $t->http_get('/fn/cbad');
is($r->{status}, 502, 'CGI function, "Status: abc": 502');
is($t->http_get('/fn/cbig')->{status}, 502, 'CGI "Status: 2000": 502');
is($t->http_get('/fn/fbad?op=bigstatus')->{status}, 502,
   'FastCGI "Status: 2000": 502 (the module takes no 200 of it)');
is($t->http_get('/fn/cquote')->{status}, 502, 'a status that quotes: 502');
is($t->http_get('/fn/fbad?op=nohead')->{status}, 502,
   'FastCGI, no response at all (an empty STDOUT, END_REQUEST): 502');
is($t->http_get('/fn/fbad?op=openhead')->{status}, 502,
   'FastCGI, a header block never ended: 502');
like($t->runner_log, qr/function "fbad" ended its response without a whole header block/,
     '... the runner says so');
# a header block over 64 KiB, ended or not: nginx takes none (502)
for my $end (0, 1) {
    is($t->http_get("/fn/fbad?op=hugehead&end=$end")->{status}, 502,
       "FastCGI, 80 KB of header lines (end=$end): 502");
}
like($t->runner_log, qr/function "fbad" sent a header block over \d+ bytes/,
     '... the runner says so');
for my $l ([runner => $t->runner_log], [nginx => $t->error_log]) {
    unlike($l->[1], qr/for function "victim|\033/,
           "... its quote and escape byte are not in the $l->[0] log as "
           . 'they are');
}
my %want = (cdup => 201, ccrcr => 202, ctab => 502, ccr => 502);
for my $f (sort keys %want) {
    $r = $t->http_get("/fn/$f");
    is($r->{status}, $want{$f}, "$f: $want{$f}, as nginx takes it");
}
$r = $t->http_get('/fn/cfine');
is($r->{status}, 418, 'a valid one ("Status:418 ..."): as it is');
is($t->http_get('/fn/fbad?op=status')->{status}, 201,
   '... and a FastCGI one');

ok(FaasTest::wait_for(sub { FaasTest::read_file($log) =~ /^fbad 201/m }, 5),
   'access log written');
my $a = FaasTest::read_file($log);
like($a, qr/^fbad 502 error$/m, '$faas_status: error (FastCGI)');
like($a, qr/^cbad 502 error$/m, '$faas_status: error (CGI)');
like($a, qr/^cbig 502 error$/m, '... and for a status of 4 digits');
is(scalar(() = $a =~ /^fbad 502 error$/mg), 6,
   '... the FastCGI ones too, with no header block or one too big (never '
   . 'ok)');
like($a, qr/^cfine 418 ok$/m, 'a valid status: ok');
like($a, qr/^cdup 201 ok$/m, 'two Status: the first, ok');
like($a, qr/^ccrcr 202 ok$/m, 'CRs before the end: ok');
like($a, qr/^ctab 502 error$/m, 'a tab before the status: error');
like($a, qr/^ccr 502 error$/m, 'a CR in a value: error');
# (its peak memory only while it lives: one that has exited has none)
like(FaasTest::read_file($used), qr/^cbad init=\d+\.\d+ cpu=\d+\.\d+ /m,
     'a CGI process that answered garbage: its init and CPU metered');
like($t->runner_log, qr/function "fbad" sent an invalid status line "Status: abc"/,
     'the log says what it sent (FastCGI)');
like($t->runner_log, qr/CGI function "cbad" \(pid \d+\) sent an invalid status/,
     '... and for CGI');

my $prom = `@{[ $t->runner_bin_name ]} status --listen unix:@{[ $t->socket_path ]} --format prometheus 2>&1`;
for my $f (qw(fbad cbad ctab ccr)) {
    my ($ok) = $prom =~ /^faas_function_invocations_total\{function="$f",[^}]*outcome="ok"\} (\d+)/m;
    my ($err) = $prom =~ /^faas_function_invocations_total\{function="$f",[^}]*outcome="error"\} (\d+)/m;
    is($ok // 0, $f eq 'fbad' ? 1 : 0, "status: $f counted ok only for its valid answer");
    ok(($err // 0) >= 1, "status: $f counted as error");
}

# asynchronously: an error, tried again, failed
$r = $t->fcgi_call('cbad', params => [FAAS_INVOCATION => 'async',
                                      REQUEST_METHOD => 'POST']);
my ($id) = $r->{stdout} =~ /"id": "([0-9a-f]{32})"/;
$id //= 'none';
ok(FaasTest::wait_for(sub { () = FaasTest::read_file($meter) =~ /id=$id/g;
                            } , 10), 'async: metered');
ok(FaasTest::wait_for(sub { my @n = FaasTest::read_file($meter)
                                    =~ /id=$id/g; @n >= 2 }, 10),
   'async: tried again');
my @lines = grep { /id=$id/ } split /\n/, FaasTest::read_file($meter);
like($lines[0] // '', qr/ status=502 outcome=error /,
     'async: meter_log says status=502 outcome=error');
my $bin = $t->runner_bin_name;
my $cf = $t->prefix . '/runner.conf';
ok(FaasTest::wait_for(sub { `$bin invocation $id --config $cf` =~ /^state: +failed$/m }, 10),
   'async: failed, not succeeded') or diag(`$bin invocation $id --config $cf 2>&1`);

# asynchronously, no header block (or one too big): failed, not
# succeeded with a 200, and metered so
for my $op ('nohead', 'openhead', 'hugehead&end=1') {
    $r = $t->fcgi_call('fbad', params => [FAAS_INVOCATION => 'async',
                                          REQUEST_METHOD => 'POST',
                                          QUERY_STRING => "op=$op"]);
    my ($nid) = $r->{stdout} =~ /"id": "([0-9a-f]{32})"/;
    $nid //= 'none';
    ok(FaasTest::wait_for(sub { `$bin invocation $nid --config $cf`
                                =~ /^state: +failed$/m }, 15),
       "async, $op: failed") or diag(`$bin invocation $nid --config $cf 2>&1`);
    like(`$bin invocation $nid --config $cf`, qr/^status: +502$/m,
         '... with status 502');
    ok(FaasTest::wait_for(sub { FaasTest::read_file($meter)
                                =~ /id=$nid/ }, 10), '... metered');
    unlike(FaasTest::read_file($meter), qr/outcome=ok [^\n]*id=$nid/,
           '... never as ok');
}

# the destination's JSON
$r = $t->fcgi_call('text', params => [FAAS_INVOCATION => 'async',
                                      REQUEST_METHOD => 'POST']);
ok(FaasTest::wait_for(sub { -s "$dest/out/log" }, 10), 'the destination ran');
my $doc = FaasTest::read_file("$dest/out/log");
my $j = eval { decode_json($doc) };
ok($j, 'its body is JSON') or diag($doc);
is($j && $j->{body},
   "caf\x{e9} \x{20ac} \x{1f600} x\x{fffd}y \x{fffd}\x{fffd} z\x{01}\"\\",
   'UTF-8 as it is; a stray byte, a cut sequence: U+FFFD; controls '
   . 'escaped');
like($doc, qr/caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80/,
     '... the text is written as UTF-8, not \\u00XX per byte');

$t->done;

done_testing;
