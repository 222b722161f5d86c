#!/usr/bin/perl

# A function's stderr in nginx's error log, as php-fpm's
# catch_workers_output: a log line per line it wrote, whatever records
# carried it. Lines that came in one write are split, a line that came
# in pieces is joined, CRLF is a line end, a last line without newline
# is logged at the end; escaped (quotes, control bytes as \xNN); a line
# longer than a log line goes on in the next, each within nginx's line
# limit. Past a request's budget (8 KB) the first half is kept as it
# came and the last lines are logged at the end, the count of what was
# between them said once: a traceback's last line is never lost.
# Against fcgiwrap behind the same nginx: the same bytes to the client,
# and every line of stderr fcgiwrap's nginx logged is ours too.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;
my $p = $t->prefix;

my $head = "printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'";

# PHP's warnings and a Python traceback, in one write
my @lines = (
    (map { "PHP Warning:  Undefined variable \$v$_ in /srv/www/index.php "
           . "on line $_" } 1 .. 6),
    'PHP Warning:  include("missing.php"): Failed to open stream: No such '
    . "file or directory in /srv/www/index.php on line 7",
    'Traceback (most recent call last):',
    '  File "/srv/app/app.py", line 10, in <module>',
    '    main()',
    "  File \"/srv/app/app.py\", line 7, in main\t(tab)",
    "RuntimeError: the last words \\ of \x1b[31m a traceback",
);
my $lines_txt = join('', map { "$_\n" } @lines[0 .. $#lines - 2])
              . "$lines[-2]\r\n$lines[-1]\n";

# 600 lines, then the one that matters
my @flood = map { sprintf 'flood line %03d of 600, a little padding', $_ }
            1 .. 600;
push @flood, 'RuntimeError: the cause, at the very end';

# one line of 5000 bytes, quotes in it
my $long = join '', map { "w$_ \"q\" " } 1 .. 2000;
$long = substr($long, 0, 4990) . 'LONG-END';

$t->function('lines', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\n$head\ncat err.txt >&2\n",
             'err.txt' => $lines_txt);
$t->function('split', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\n$head\nprintf 'first half, ' >&2\n"
                       . "sleep 0.2\nprintf 'second half\\nand a last "
                       . "line without newline' >&2\n");
$t->function('flood', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\n$head\ncat err.txt >&2\n",
             'err.txt' => join('', map { "$_\n" } @flood));
$t->function('long', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\n$head\ncat err.txt >&2\n",
             'err.txt' => "$long\n");

$t->start_runner;

# fcgiwrap, as the user CGI processes run as
my $user = $> == 0 ? 'nobody' : getpwuid($>);
mkdir "$p/wrap";
chown scalar(getpwnam($user)), -1, "$p/wrap" if $> == 0;
my $wrap = fork // die;
if ($wrap == 0) {
    alarm 0;
    open STDIN, '<', '/dev/null';
    open STDOUT, '>>', "$p/logs/fcgiwrap.log";
    open STDERR, '>&', \*STDOUT;
    POSIX::setpgid(0, 0);
    if ($> == 0) {
        my ($uid, $gid) = (getpwnam($user))[2, 3];
        POSIX::setgid($gid);
        $) = "$gid $gid";
        POSIX::setuid($uid);
    }
    # -f: the scripts' stderr to nginx, as FastCGI STDERR
    exec 'fcgiwrap', '-f', '-c', '2', '-s', "unix:$p/wrap/sock"
        or POSIX::_exit(127);
}
ok(FaasTest::wait_for(sub { -S "$p/wrap/sock" }, 10), 'fcgiwrap is up');
chmod 0777, "$p/wrap/sock";

my $wport = FaasTest::free_port();
$t->start_nginx($t->faas_location . <<"EOF");
    server {
        listen 127.0.0.1:$wport;
        location ~ ^/fn/(?<fname>[^/]*) {
            fastcgi_pass unix:$p/wrap/sock;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $p/functions/\$fname/run.sh;
        }
    }
EOF

sub unescape { my ($s) = @_; $s =~ s/\\x([0-9a-f]{2})/chr(hex $1)/ge; $s }

# our log lines of a function's stderr: [escaped, unescaped, whole line]
sub ours {
    my ($fname) = @_;
    return map { /function "\Q$fname\E" stderr: "([^"]*)"/
                 ? [ $1, unescape($1), $_ ] : () }
           split /\n/, $t->error_log;
}

sub get {
    my ($port, $uri) = @_;
    local $t->{port} = $port;
    return $t->http_get($uri, timeout => 15);
}

sub same_bytes {
    my ($a, $b, $what) = @_;
    my @r = map { (my $x = $_ && $_->{raw} // '')
                  =~ s/^(Date|Server): [^\r]*\r\n//mg; $x } $a, $b;
    is($r[0], $r[1], "$what: the same bytes to the client as fcgiwrap");
}

# --- lines in one write -----------------------------------------------------

my $r = get($t->port, '/fn/lines');
is($r->{body}, "ok\n", 'lines: answered');
ok(FaasTest::wait_for(sub { ours('lines') >= @lines }, 5),
   'lines: logged');
is_deeply([ map { $_->[1] } ours('lines') ], \@lines,
          'a log line per line of stderr, in order, whole, CRLF a line end')
    or diag(explain([ map { $_->[0] } ours('lines') ]));
like($t->error_log, qr/stderr: "RuntimeError: the last words \\x5c of \\x1b\[31m a traceback"/,
     'escaped: backslash and control bytes as \xNN');
like($t->error_log, qr/stderr: "PHP Warning:  include\(\\x22missing\.php\\x22\)/,
     '... quotes too');
is(scalar(grep { /\e/ } map { $_->[2] } ours('lines')), 0,
   'no raw control byte in our log lines');
unlike($t->error_log, qr/"lines": \d+ bytes of stderr not logged/,
       'nothing of it left out');

my $w = get($wport, '/fn/lines');
same_bytes($r, $w, 'lines');
# nginx's fastcgi module logs a record a log line, the lines in it raw
# (and a line fcgiwrap sent in two records in two log lines, less the
# spaces that ended the first): joined, blanks aside, they hold every line
(my $theirs = join '', $t->error_log =~ /FastCGI sent in stderr: "(.*?)" while/sg)
    =~ s/\s+//g;
my @theirs = grep { index($theirs, s/\s+//gr) >= 0 } @lines;
is(scalar(@theirs), scalar(@lines), 'fcgiwrap\'s nginx logged every line');
my %ours = map { $_->[1] => 1 } ours('lines');
is(join("\n", grep { !$ours{$_} } @theirs), '',
   'every line fcgiwrap\'s nginx logged, ours logged as a line of its own');

# --- a line in pieces -------------------------------------------------------

$r = get($t->port, '/fn/split');
is($r->{body}, "ok\n", 'split: answered');
ok(FaasTest::wait_for(sub { ours('split') >= 2 }, 5), 'split: logged');
is_deeply([ map { $_->[1] } ours('split') ],
          [ 'first half, second half', 'and a last line without newline' ],
          'a line written in two pieces is one log line; the last one, '
          . 'without newline, is logged at the end');
same_bytes($r, get($wport, '/fn/split'), 'split');

# --- a line longer than a log line ------------------------------------------

$r = get($t->port, '/fn/long');
ok(FaasTest::wait_for(sub { join('', map { $_->[1] } ours('long'))
                            =~ /LONG-END/ }, 5), 'long: logged');
my @long = ours('long');
is(join('', map { $_->[1] } @long), $long, 'a 5000-byte line: whole, in '
   . scalar(@long) . ' log lines');
is(scalar(grep { length($_->[0]) > 1800 } @long), 0,
   '... each at most 1800 bytes of escaped text');
is(scalar(grep { length($_->[2]) >= 2047 } @long), 0,
   '... each log line within nginx\'s line limit');
unlike($t->error_log, qr/"long": \d+ bytes of stderr not logged/,
       '... and nothing left out');

# --- past the budget: the first lines and the last --------------------------

$r = get($t->port, '/fn/flood');
is($r->{body}, "ok\n", 'flood: answered');
my $dropped;
ok(FaasTest::wait_for(sub {
       ($dropped) = $t->error_log =~ /function "flood": (\d+) bytes of stderr not logged, its last lines follow/;
       defined $dropped && grep { $_->[1] eq $flood[-1] } ours('flood');
   }, 5), 'flood: the count of what was left out, then the last lines');
my @f = map { $_->[1] } ours('flood');
is($f[0], $flood[0], 'the first line is logged');
is($f[-1], $flood[-1], 'the last line is logged: "RuntimeError: ..."');
is(join("\n", @f), join("\n", grep { my $l = $_; grep { $_ eq $l } @f }
                                   @flood),
   'in the order written');
my $logged = 0;
$logged += length for @f;
my $all = 0;
$all += length for @flood;
# a log line counts 64 bytes beyond its text (a flood of short lines
# was a log line each: t/hostile_floods.t)
my $charged = $logged + 64 * @f;
ok($charged <= 8192, "at most 8 KB a request logged, 64 bytes a line "
   . "with its text ($logged of text in " . scalar(@f) . ' lines)');
cmp_ok($charged, '>', 6000, '... most of the budget used');
# (bytes as written: each line's newline counted, logged or not): the
# runner sends nginx a request's first 8 KB and its last 8 KB, and
# counts what fell between in its own log
is($logged + @f + $dropped, 16384, 'what the module logged and counted: '
   . 'the 16 KB the runner sent it, newlines too');
ok(FaasTest::wait_for(sub {
       $t->runner_log =~ /: (\d+) bytes of (?:its )?functions' stderr not sent to nginx/
       && $1 >= $all + @flood - 16384
   }, 5), '... the runner counted the rest (' . ($all + @flood - 16384)
   . ' bytes)');
my $log = $t->error_log;
my $warn_at = index($log, 'bytes of stderr not logged');
ok($warn_at > index($log, "stderr: \"$flood[0]\"")
   && $warn_at < index($log, "stderr: \"$flood[-1]\""),
   'the count sits between the first lines and the last');

kill 'TERM', -$wrap;
FaasTest::wait_for(sub { waitpid($wrap, POSIX::WNOHANG()) != 0 }, 5)
    or do { kill 'KILL', -$wrap; waitpid($wrap, 0) };
kill 'KILL', -$wrap;

$t->done;

done_testing;
