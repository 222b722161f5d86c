#!/usr/bin/perl

# fcgi-runner invocation ID shows a function's response: a function is
# untrusted code, and its bytes must not drive the reader's terminal.
# On a terminal, control bytes (ESC, a lone CR, C1 controls) and bytes
# that are no UTF-8 are shown as \xNN; text, tabs, lines and UTF-8 stay
# readable. With --raw, or when stdout is no terminal (a pipe, a file),
# the bytes go out as they are. The terminal is a pty of script(1).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need(-x '/usr/bin/script', 'script(1) (bsdutils)');

my $t = FaasTest->new;

# a title, a colour, a screen clear, a lone CR, a C1 CSI, a bad byte,
# and text in UTF-8
$t->function('evil', "exec = ./run.sh\nmode = cgi\n", 'run.sh' => <<'EOF');
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
printf 'A\033]0;pwned\007B\033[31mC\033[2JD\rE\302\233F\377G\tH\n'
printf 'caf\303\251 \342\202\254\n'
EOF

# fails: a failed invocation keeps no response
$t->function('doomed', "exec = ./run.sh\nmode = cgi\n", 'run.sh' => <<'EOF');
#!/bin/sh
printf 'Status: 500 No\r\n\r\nno\n'
EOF

$t->start_runner(conf => "async_retries = 0\n");

my $r = $t->fcgi_call('evil', params => [FAAS_INVOCATION => 'async',
                                        REQUEST_METHOD => 'POST']);
like($r->{stdout}, qr/^Status: 202/m, 'stored: 202');
my ($id) = $r->{stdout} =~ /"id": "([0-9a-f]{32})"/;
ok($id, 'its id');
$id //= 'none';

my $bin = $t->runner_bin_name;
my $cmd = "$bin invocation $id --config " . $t->prefix . '/runner.conf';

ok(FaasTest::wait_for(sub { `$cmd 2>&1` =~ /^state: +succeeded$/m }, 15),
   'it ran');

# on a terminal: script(1) runs it on a pty and copies what it wrote
sub on_tty {
    my ($args) = @_;
    my $log = $t->prefix . '/tty.out';
    unlink $log;
    # (script copies it to its own stdout too: not into the TAP)
    system("script -qec '$cmd $args' $log </dev/null >/dev/null 2>&1") == 0
        or return '';
    my $out = FaasTest::read_file($log);
    # script's own first line, when it writes one
    $out =~ s/\AScript started[^\n]*\n//;
    return $out;
}

my $tty = on_tty('');
like($tty, qr/^state: +succeeded/m, 'on a terminal: shown');
unlike($tty, qr/\e/, '... no ESC byte reaches it');
unlike($tty, qr/\x07|\xc2\x9b|\xff|D\rE/,
       '... nor BEL, a C1 CSI, a bad byte, a lone CR');
like($tty, qr/A\\x1b\]0;pwned\\x07B\\x1b\[31mC\\x1b\[2JD\\x0dE\\xc2\\x9bF\\xffG\tH/,
     '... they are shown as \\xNN, a tab as it is');
like($tty, qr/caf\xc3\xa9 \xe2\x82\xac/, '... UTF-8 text as it is');

my $raw = on_tty('--raw');
like($raw, qr/A\e\]0;pwned\x07B\e\[31m/, '--raw: the bytes as they are');

my $pipe = `$cmd`;
like($pipe, qr/A\e\]0;pwned\x07B\e\[31mC\e\[2JD\rE\xc2\x9bF\xffG\tH\n/,
     'into a pipe: the bytes as they are');

# one that failed has no response: shown all the same
$r = $t->fcgi_call('doomed', params => [FAAS_INVOCATION => 'async',
                                        REQUEST_METHOD => 'POST']);
my ($did) = $r->{stdout} =~ /"id": "([0-9a-f]{32})"/;
$did //= 'none';
my $dcmd = "$bin invocation $did --config " . $t->prefix . '/runner.conf';
ok(FaasTest::wait_for(sub { `$dcmd 2>&1` =~ /^state: +failed$/m }, 15),
   'a failed one');
my $dout = `$dcmd 2>&1`;
is($? >> 8, 0, '... shown, exit 0');
unlike($dout, qr/runtime error|Sanitizer/, '... cleanly (no NULL to fwrite)');

$t->done;

done_testing;
