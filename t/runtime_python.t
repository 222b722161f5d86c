#!/usr/bin/perl

# runtime = python: a WSGI application (a Flask app nobody here wrote
# the framework of) served by the runner, compared with gunicorn (sync
# workers) serving the same app from the same folder behind the same
# nginx: same status, headers and bytes. Its workers fork from a zygote
# that imported the app once: after scale to zero the next worker runs
# an app it did not import itself, with a random state of its own and
# none of the zygote's descriptors. The hostile twins: an app that
# cannot be imported, one that starts threads while imported, one that
# never answers, a zygote that is killed; keys that are missing or
# malformed. Each is answered as documented and the runner stays up.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep);

FaasTest::need(-x '/usr/bin/python3'
               && !system('/usr/bin/python3 -c "import flask" 2>/dev/null'),
               'python3 and python3-flask (make test-deps)');
FaasTest::need(-x '/usr/bin/gunicorn', 'gunicorn (make test-deps)');

my $t = FaasTest->new;

sub ppid_of {
    my ($pid) = @_;
    my $s = FaasTest::read_file("/proc/$pid/stat") // '';
    return $s =~ /^\d+ \(.*\) \S+ (\d+)/s ? $1 : -1;
}

my $site = <<'EOF';
import hashlib
import os
import random
import time

from flask import Flask, Response, jsonify, redirect, request, url_for

IMPORTED_BY = os.getpid()
KEPT = os.dup2(os.open(__file__, os.O_RDONLY), 50)   # opened while imported
# the first file the import opens, kept by an object of the app's
IMPORT_LOG = open(os.devnull, 'w', buffering=1)

app = Flask(__name__)
flask_app = app.wsgi_app


def raw(env, start):
    # what Flask never sends: a status without its reason (PEP 3333's
    # validator warns, gunicorn sends it), a Content-Length of no number
    path = env.get('PATH_INFO', '')
    if path == '/bare':
        start('200', [('Content-Type', 'text/plain')])
        return [b'bare\n']
    if path == '/nolength':
        start('200 OK', [('Content-Length', 'abc')])
        return [b'nolength\n']
    return flask_app(env, start)


app.wsgi_app = raw


@app.route('/')
def index():
    return 'hello from flask\n'


@app.route('/json')
def js():
    return jsonify(ok=True, n=[1, 2, 3], s='caf\u00e9', q=request.args)


@app.route('/form', methods=['POST'])
def form():
    return jsonify(sorted(request.form.items()))


@app.route('/upload', methods=['POST'])
def upload():
    data = request.get_data()
    return '%d %s\n' % (len(data), hashlib.sha256(data).hexdigest())


@app.route('/boom')
def boom():
    return str(1 // 0)


@app.route('/away')
def away():
    return redirect(url_for('js'))


@app.route('/stream')
def stream():
    return Response(('line %d\n' % i for i in range(5)),
                    mimetype='text/plain')


@app.route('/cookie')
def cookie():
    r = Response('set\n')
    r.set_cookie('k', 'v')
    r.headers['X-App'] = request.headers.get('X-Test', 'none')
    return r


@app.route('/drip')
def drip():
    def gen():
        yield 'first\n'
        time.sleep(3)
        yield 'second\n'
    return Response(gen(), mimetype='text/plain')


@app.route('/cut')
def cut():
    def gen():
        yield 'part\n'
        raise RuntimeError('cut short')
    return Response(gen(), mimetype='text/plain')


@app.route('/logged')
def logged():
    # in a worker, the number of a descriptor the zygote opened must
    # lead nowhere (never to the worker's connection)
    IMPORT_LOG.write('x' * 200 + '\n')
    return 'logged\n'


@app.route('/who')
def who():
    try:
        kept = os.readlink('/proc/self/fd/%d' % KEPT).endswith('webapp.py')
    except OSError:
        kept = False
    return '%d %d %s %.17f\n' % (IMPORTED_BY, os.getpid(),
                                 'kept' if kept else 'closed',
                                 random.random())
EOF

$t->function('site', "runtime = python\napp = webapp:app\nidle_timeout = 1s\n"
                     . "max_instances = 2\n", 'webapp.py' => $site);
# the same app under no isolation: its zygote is the runner's own child
$t->function('plain', "runtime = python\napp = webapp:app\nidle_timeout = 1s\n"
                      . "isolation = none\n", 'webapp.py' => $site);
# python.path: a package folder of the function's
$t->function('pathed', "runtime = python\napp = deep.mod:application\n"
                       . "python.path = lib\n",
             'lib/deep/__init__.py' => '',
             'lib/deep/mod.py' => "def application(env, start):\n"
                 . "    start('201 Created', [('Content-Type', 'text/plain')])\n"
                 . "    return [env['wsgi.input'].read(), b'|',"
                 . " env['QUERY_STRING'].encode()]\n");
# app = a module alone: its application; an iterable body with close()
# (it leaves a mark in the function's /tmp, shared by its workers)
$t->function('bare', "runtime = python\napp = bare\n",
             'bare.py' => "import os\n"
                 . "class Body:\n"
                 . "    def __iter__(self):\n"
                 . "        return iter([b'module alone\\n'])\n"
                 . "    def close(self):\n"
                 . "        open('/tmp/closed', 'w').close()\n"
                 . "def application(env, start):\n"
                 . "    start('200 OK', [('Content-Type', 'text/plain')])\n"
                 . "    if env['QUERY_STRING'] == 'closed':\n"
                 . "        return [b'yes\\n' if os.path.exists('/tmp/closed')"
                 . " else b'no\\n']\n"
                 . "    return Body()\n");
# cannot be imported
# a module of the host's (os), or one the driver had imported before
# (socket): not the function folder's, though a socket.py is there; a
# json.py of the folder is its own
$t->function('hostmod', "runtime = python\napp = os:getcwd\n");
$t->function('shadow', "runtime = python\napp = socket:app\n",
             'socket.py' => "def app(e, s):\n    s('200 OK', [])\n"
                          . "    return [b'the folder socket']\n");
$t->function('ownjson', "runtime = python\napp = json:app\n",
             'json.py' => "def app(e, s):\n    s('200 OK', [])\n"
                        . "    return [b'the folder json']\n");
$t->function('broken', "runtime = python\napp = broken:app\n",
             'broken.py' => "import nosuchmodule_here\napp = None\n");
# a thread left running by the import: no worker can fork from it
$t->function('threads', "runtime = python\napp = th:app\nidle_timeout = 1s\n",
             'th.py' => "import threading, time\n"
                 . "threading.Thread(target=time.sleep, args=(3600,),"
                 . " daemon=True).start()\n"
                 . "def app(env, start):\n"
                 . "    start('200 OK', [('Content-Type', 'text/plain')])\n"
                 . "    return [b'threads ok\\n']\n");
# its import makes the driver's answers to the runner slow: the runner
# waits 200 ms for a zygote's answer, never more, then never again
$t->function('slow', "runtime = python\napp = s:app\nidle_timeout = 1s\n",
             's.py' => "import __main__, time\n"
                 . "_reply = __main__.reply\n"
                 . "def reply(sock, pid, err):\n"
                 . "    if pid > 0:\n"
                 . "        time.sleep(0.5)\n"
                 . "    _reply(sock, pid, err)\n"
                 . "__main__.reply = reply\n"
                 . "def app(env, start):\n"
                 . "    start('200 OK', [('Content-Type', 'text/plain')])\n"
                 . "    return [b'slow ok\\n']\n");
# its import leaves the zygote burning CPU between forks (a timer and a
# handler): unbilled work, stopped at the runner's next look
$t->function('burner', "runtime = python\napp = b:app\nidle_timeout = 1s\n",
             'b.py' => "import signal, time\n"
                 . "def burn(sig, frame):\n"
                 . "    end = time.process_time() + 0.04\n"
                 . "    while time.process_time() < end:\n"
                 . "        pass\n"
                 . "signal.signal(signal.SIGALRM, burn)\n"
                 . "signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)\n"
                 . "def app(env, start):\n"
                 . "    start('200 OK', [('Content-Type', 'text/plain')])\n"
                 . "    return [b'burner ok\\n']\n");
# its zygote says it is ready, then exits at its first fork: replaced,
# but not forever (each costs an import nobody is billed for)
$t->function('dier', "runtime = python\napp = d:app\nmax_requests = 1\n",
             'd.py' => "import os\n"
                 . "os.register_at_fork(before=lambda: os._exit(0))\n"
                 . "def app(env, start):\n"
                 . "    start('200 OK', [('Content-Type', 'text/plain')])\n"
                 . "    return [b'dier ok\\n']\n");
# never answers
$t->function('hang', "runtime = python\napp = h:app\ntimeout = 2s\n",
             'h.py' => "import time\ndef app(env, start):\n"
                 . "    if env['QUERY_STRING'] == 'hang':\n"
                 . "        time.sleep(3600)\n"
                 . "    start('200 OK', [('Content-Type', 'text/plain')])\n"
                 . "    return [b'awake\\n']\n");
# a response the app lies about: not bytes, bad header
$t->function('liar', "runtime = python\napp = l:app\n",
             'l.py' => "def app(env, start):\n"
                 . "    if env['QUERY_STRING'] == 'header':\n"
                 . "        start('200 OK', [('X-Bad', 'a\\r\\nInjected: 1')])\n"
                 . "        return [b'x']\n"
                 . "    start('200 OK', [('Content-Type', 'text/plain')])\n"
                 . "    return ['not bytes']\n");

# an app that forks while it is imported: the zygote's child, nobody's
# worker, would run unbilled as long as the zygote lives
my $fkdir = $t->function('forker', "runtime = python\napp = fk:app\n"
    . "idle_timeout = 1s\n", 'fk.py' => <<'EOF');
import os
# the first import only (its zygote's): a child that sleeps, told by
# its command line
marker = os.path.join(os.path.dirname(__file__), 'out', 'forked')
if not os.path.exists(marker):
    open(marker, 'w').close()
    if os.fork() == 0:
        os.execv('/bin/sleep', ['sleep', '3601'])
def app(env, start):
    start('200 OK', [('Content-Type', 'text/plain')])
    return [b'forker ok\n']
EOF
mkdir "$fkdir/out";
chmod 0777, "$fkdir/out";

# what PEP 3333 asks of a server, the app's way: the body only up to
# CONTENT_LENGTH; a hop-by-hop header dropped (as gunicorn drops it),
# a Status of its own refused; no body past its Content-Length; a
# close() that fails after the whole body leaves the response whole
my $strict = <<'EOF';
import sys, time


class Body:
    def __iter__(self):
        yield b'whole'
    def close(self):
        raise RuntimeError('close failed')

class Hang:
    def __iter__(self):
        yield b'given'
    def close(self):
        time.sleep(10)

def app(env, start):
    q = env['QUERY_STRING']
    if q == 'input':
        start('200 OK', [('Content-Type', 'text/plain')])
        return [b'[' + env['wsgi.input'].read() + b']']
    if q == 'hop':
        start('200 OK', [('Transfer-Encoding', 'chunked'),
                         ('Connection', 'close'), ('X-Kept', 'yes')])
        return [b'hop']
    elif q == 'status':
        start('200 OK', [('Status', '404 Not Found')])
    elif q == 'digits':
        start('\u00b2\u00b2\u00b2 Odd', [])
    elif q == 'over':
        start('200 OK', [('Content-Length', '3')])
        return iter([b'ab', b'cdef', b'gh'])
    elif q == 'close':
        start('200 OK', [('Content-Type', 'text/plain')])
        return Body()
    elif q == 'ctl':
        # a control character in a value (PEP 3333: none)
        start('200 OK', [('X-A', 'a\x0bb')])
        return [b'ctl']
    elif q == 'tab':
        start('200 OK', [('X-A', 'a\tb')])
        return [b'tab']
    elif q == 'hangclose':
        # the whole body, then a close() past the timeout
        start('200 OK', [('Content-Length', '5')])
        return Hang()
    elif q == 'none':
        # a list with no bytes in it: nothing went yet, so a 500
        start('200 OK', [('Content-Type', 'text/plain')])
        return [b'ok', None]
    elif q == 'recover':
        # PEP 3333's recovery: new headers while nothing went yet
        start('200 OK', [('Content-Length', '5')])
        try:
            1 // 0
        except ZeroDivisionError:
            start('500 Oops', [('Content-Type', 'text/plain')],
                  sys.exc_info())
        return [b'an error occurred']
    elif q == 'writecl':
        # the write() callable, cut at the Content-Length as the iterable
        w = start('200 OK', [('Content-Length', '5')])
        w(b'hello world')
        return [b' and more']
    elif q == 'padcl':
        # blanks around a Content-Length: its number (gunicorn's int())
        start('200 OK', [('Content-Length', ' 5 ')])
        return [b'hello world']
    elif q == 'twocl':
        start('200 OK', [('Content-Length', '5'), ('Content-Length', '6')])
        return [b'hello world']
    elif q == 'huge':
        # one body of 96 MiB under memory = 256M: sent a record at a time
        start('200 OK', [('Content-Type', 'application/octet-stream')])
        return [b'x' * (96 << 20)]
    return [b'never']
EOF
$t->function('strict', "runtime = python\napp = st:app\ntimeout = 2s\n",
             'st.py' => $strict);
# its big body, within a timeout that a loaded machine meets
$t->function('strictbig', "runtime = python\napp = st:app\ntimeout = 60s\n"
             . "memory = 256M\n", 'st.py' => $strict);

$t->start_runner(conf => "prototype_idle_timeout = 30s\nlimit_isolation = none\n");

my $gport = FaasTest::free_port();
my $gpid = fork // die "fork: $!";

if ($gpid == 0) {
    open STDIN, '<', '/dev/null';
    open STDOUT, '>>', $t->prefix . '/logs/gunicorn.log';
    open STDERR, '>>', $t->prefix . '/logs/gunicorn.log';
    $ENV{SCRIPT_NAME} = '/fn/site';
    exec '/usr/bin/gunicorn', '--workers', '2', '--bind',
         "127.0.0.1:$gport", '--chdir', $t->functions_dir . '/site',
         'webapp:app' or POSIX::_exit(127);
}

my $mlog = $t->prefix . '/logs/meter.log';
$t->start_nginx(FaasTest::meter_log_format() . $t->faas_location(
    location => "access_log $mlog faas_meter;", extra => <<"EOF"));
        location /gu/ {
            proxy_pass http://127.0.0.1:$gport/fn/;
        }
        location = /status {
            faas_status;
            faas_pass runner;
        }
EOF

ok(FaasTest::wait_for(sub {
    IO::Socket::INET->new(PeerAddr => "127.0.0.1:$gport", Timeout => 1)
}, 30), 'gunicorn is up');

# --- the same bytes as gunicorn -----------------------------------------

my $upload = join '', map { chr(($_ * 7) % 256) } 0 .. 300_000;
my @cases = (
    [ GET => '/' ],
    [ GET => '/json?a=1&b=%C3%A9' ],
    [ POST => '/form', "x=1&y=caf%C3%A9&x=2",
      'application/x-www-form-urlencoded' ],
    [ POST => '/upload', $upload, 'application/octet-stream' ],
    [ GET => '/boom' ],
    [ GET => '/away' ],
    [ GET => '/stream' ],
    [ GET => '/cookie' ],
    [ GET => '/nowhere' ],
    [ DELETE => '/json' ],
    [ GET => '/bare' ],
);

for my $c (@cases) {
    my ($method, $path, $body, $type) = @$c;
    my %r;

    for my $via ('fn', 'gu') {
        my $req = "$method /$via/site$path HTTP/1.0\r\nHost: localhost\r\n"
                  . "X-Test: hdr\r\n";
        $req .= "Content-Type: $type\r\nContent-Length: " . length($body)
                . "\r\n" if defined $body;
        $r{$via} = $t->http($req . "\r\n" . ($body // ''));
    }

    my ($f, $g) = @r{qw(fn gu)};
    is($f->{status}, $g->{status}, "$method $path: status as gunicorn's "
       . "($g->{status})");
    is($f->{body}, $g->{body}, "$method $path: body as gunicorn's ("
       . length($g->{body}) . ' bytes)');

    for my $h (qw(content-type location set-cookie x-app)) {
        is(FaasTest::header($f, $h), FaasTest::header($g, $h),
           "$method $path: $h as gunicorn's");
    }
}

# the status line of a status without its reason: gunicorn's
my %line = map { $_ => $t->http_get("/$_/site/bare")->{status_line} }
               qw(fn gu);
is($line{fn}, $line{gu}, "a status without its reason: gunicorn's status "
   . "line ($line{gu})");
# a Content-Length that is no number: the app's error, gunicorn's 500
for my $via ('fn', 'gu') {
    is($t->http_get("/$via/site/nolength")->{status}, 500,
       "a Content-Length of no number: 500 ($via)");
}

# started now, looked at after the rest (the runner looks every 10 s)
is($t->http_get('/fn/burner/')->{body}, "burner ok\n", 'burner: served');

my $log = $t->runner_log;
like($log, qr/ZeroDivisionError/, 'the exception is in the runner log');
my $r = $t->http_get('/fn/site/boom');
unlike($r->{body}, qr/Traceback|ZeroDivision|site\.py/,
       'and never in the response');

# --- the zygote ---------------------------------------------------------

ok($t->wait_log(qr/zygote (\d+) of "site" ready/, 30), 'its zygote is ready');
my ($zygote) = $t->runner_log =~ /zygote (\d+) of "site" ready/;
is(ppid_of($zygote), $t->runner_pid,
   "the zygote is the runner's child");

# scale to zero: idle_timeout 1s
ok(FaasTest::wait_for(sub { !grep { $_ != $zygote } $t->workers('site') },
                      15), 'scaled to zero');

my (@who, @rand);
for my $round (1, 2) {
    $r = $t->http_get('/fn/site/who');
    is($r->{status}, 200, "after scale to zero ($round): 200");
    my ($imported, $pid, $fds, $rand) = split ' ', $r->{body};
    isnt($imported, $pid, "($round) the worker did not import the app: its "
         . "zygote did");
    is($fds, 'closed', "($round) what the zygote opened is not the worker's");
    push @rand, $rand;

    my @w = grep { $_ != $zygote } $t->workers('site');
    is(scalar @w, 1, "($round) one worker");
    is(ppid_of($w[0]), $t->runner_pid,
       "($round) the worker is the runner's child (CLONE_PARENT)");
    ok(FaasTest::wait_for(sub { !grep { $_ != $zygote } $t->workers('site') },
                          15), "($round) scaled to zero again");
}

isnt($rand[0], $rand[1], 'each fork has a random state of its own');

for (1 .. 3) {
    $r = $t->http_get('/fn/site/logged');
    is("$r->{status} $r->{body}", "200 logged\n",
       "($_) a file the import opened, written by a forked worker: "
       . 'nothing of it reaches the response');
}

# metered as any function: the forked workers' requests, cold ones too
my @metered = grep { m{function=site } && / cold=1 / }
              split /\n/, FaasTest::read_file($mlog);
cmp_ok(scalar @metered, '>=', 2, 'the first requests after scale to zero are '
       . 'metered cold');
ok(!grep({ !/ cpu=\d[\d.]* memory=[1-9]\d* / } @metered),
   'with their CPU and memory') or diag(join "\n", @metered);

# each block as the app yields it: the first long before the second
$r = $t->http("GET /fn/site/drip HTTP/1.0\r\nHost: localhost\r\n\r\n",
              until => qr/first/, timeout => 2.5);
like($r->{body} // '', qr/^first\n\z/,
     'a yielded block is sent at once, not held for the next');

# cut short after its headers: never a response that looks whole
{
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$t->{port}",
                                  Timeout => 5) or die "connect: $!";
    print $s "GET /fn/site/cut HTTP/1.1\r\nHost: localhost\r\n"
             . "Connection: close\r\n\r\n";
    my $raw = '';
    my $end = time + 10;
    while (time < $end) {
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $raw .= $buf;
    }
    close $s;
    like($raw, qr/^HTTP\/1\.1 200.*part\n/s, 'cut short: what was sent');
    unlike($raw, qr/\r\n0\r\n\r\n\z/, 'cut short: no last chunk, the '
           . 'client knows it is not whole');
}

my $st = decode_json($t->http_get('/status')->{body});
cmp_ok($st->{runner}{prototypes}{forks}, '>=', 2, 'forks are counted');

# the same with no isolation: no prototype, the zygote forks for the runner
$r = $t->http_get('/fn/plain/');
is($r->{body}, "hello from flask\n", 'isolation = none: served');
ok($t->wait_log(qr/zygote \d+ of "plain" ready/, 30),
   'isolation = none: its zygote is ready');
my ($pz) = $t->runner_log =~ /zygote (\d+) of "plain" ready/;
is(ppid_of($pz), $t->runner_pid, "isolation = none: the zygote is the "
   . "runner's child");
ok(FaasTest::wait_for(sub { !grep { $_ != $pz } $t->workers('plain') }, 15),
   'isolation = none: scaled to zero');
$r = $t->http_get('/fn/plain/who');
my ($imported, $pid) = split ' ', $r->{body};
isnt($imported, $pid, 'isolation = none: the worker forked from the zygote');

is($t->http_get('/fn/bare/')->{body}, "module alone\n",
   'app = a module alone names its application');
is($t->http_get('/fn/bare/?closed')->{body}, "yes\n",
   "the body's close() was called");

$r = $t->http_post('/fn/pathed/x?q=1', 'the body');
is($r->{status}, 201, 'python.path: a package of the function found');
is($r->{body}, 'the body|q=1', 'wsgi.input and QUERY_STRING');

# --- hostile ------------------------------------------------------------

$r = $t->http_get('/fn/broken/');
is($r->{status}, 502, 'an app that cannot be imported: 502');
ok($t->wait_log(qr/zygote \d+ of "broken" could not import its app/, 30),
   'its zygote says it could not import the app');
like($t->runner_log, qr/ModuleNotFoundError.*nosuchmodule_here/,
     "the worker's traceback says why");
$r = $t->http_get('/fn/broken/');
is($r->{status}, 502, 'still 502');
my $n = () = $t->runner_log =~ /zygote \d+ of "broken" started/g;
is($n, 1, 'a zygote that failed is not started again for the same function');

for my $fn ('hostmod', 'shadow') {
    $r = $t->http_get("/fn/$fn/");
    is($r->{status}, 502, "$fn: an app of a module not the folder's: 502");
    my $said = "is not the function folder's (/usr/lib/python3";
    like($t->runner_log, qr/ImportError: module '(os|socket)' \Q$said\E/,
         '... its traceback says so');
}
is($t->http_get('/fn/ownjson/')->{body}, 'the folder json',
   "a module of the folder's named as one of the host's: the folder's");

$r = $t->http_get('/fn/threads/');
is($r->{body}, "threads ok\n", 'an app that starts threads: served (cold)');
ok($t->wait_log(qr/zygote \d+ of "threads" found threads running/, 30),
   'its zygote refuses to fork with threads running');
ok(FaasTest::wait_for(sub { !$t->workers('threads') }, 15),
   'threads: scaled to zero');
$r = $t->http_get('/fn/threads/');
is($r->{body}, "threads ok\n", 'and served again, cold');

$r = $t->http_get('/fn/slow/');
is($r->{body}, "slow ok\n", 'a zygote whose answers are slow: served (cold)');
ok($t->wait_log(qr/zygote \d+ of "slow" ready/, 30), 'slow: its zygote is ready');
ok(FaasTest::wait_for(sub { !$t->workers('slow') }, 15), 'slow: scaled to zero');
$r = $t->http_get('/fn/slow/');
is($r->{body}, "slow ok\n", 'slow: served again');
like($t->runner_log, qr/prototype \d+ of "slow" did not answer within 200 ms/,
     'the runner waited 200 ms for it, no more');
ok(FaasTest::wait_for(sub { !$t->workers('slow') }, 15),
   'slow: scaled to zero again');
$r = $t->http_get('/fn/slow/');
is($r->{body}, "slow ok\n", 'slow: served a third time, cold');
$n = () = $t->runner_log =~ /zygote \d+ of "slow" started/g;
is($n, 1, 'a zygote that held up the runner is not made again');

# (the runner asks for a worker as soon as a zygote is ready: one that
# dies with the runner's first fork is not made again; one that dies
# at its own spare's fork, before it was asked, is: five in all at most)
my ($dier, $asked) = (0, 0);
my $made = sub { scalar(() = $t->runner_log =~ /zygote \d+ of "dier" started/g) };
for (1 .. 15) {
    $asked++;
    $dier++ if ($t->http_get('/fn/dier/')->{body} // '') eq "dier ok\n";
    sleep 0.1;
}
is($dier, $asked, "a zygote that keeps dying: every request served ($asked)");
ok($made->() >= 1 && $made->() <= 5,
   'and it is made again no more than 4 times (' . $made->() . ' in all)');

$r = $t->http_get('/fn/hang/?hang');
is($r->{status}, 504, 'an app that never answers: 504 at its timeout');
$r = $t->http_get('/fn/hang/');
is($r->{body}, "awake\n", 'and the function answers the next request');

$r = $t->http_get('/fn/liar/');
is($r->{status}, 500, 'a body of str, not bytes: 500');
$r = $t->http_get('/fn/liar/?header');
is($r->{status}, 500, 'a header with CR LF in it: 500');
ok(!defined FaasTest::header($r, 'injected'), 'and nothing injected');

# the zygote killed: the next worker starts cold, then a new zygote
kill 'KILL', $zygote;
ok($t->wait_log(qr/prototype $zygote of "site" exited/, 10),
   'a killed zygote is noticed');
ok(FaasTest::wait_for(sub { !$t->workers('site') }, 15),
   'site: scaled to zero');
$r = $t->http_get('/fn/site/');
is($r->{body}, "hello from flask\n", 'served after its zygote was killed');
ok($t->wait_log(qr/zygote (?!$zygote)\d+ of "site" ready/, 30),
   'a new zygote is made');

ok($t->wait_log(qr/zygote \d+ of "burner" used \d+ ms of CPU since/, 30)
   && $t->wait_log(qr/zygote \d+ of "burner" worked for nobody's bill/, 5),
   'a zygote that works between forks is retired');
my ($bz) = $t->runner_log =~ /zygote (\d+) of "burner" worked/;
ok(FaasTest::wait_for(sub { !-e "/proc/$bz" || FaasTest::read_file(
    "/proc/$bz/stat") =~ /^\d+ \(.*\) Z/s }, 10), 'and it is gone');
ok(FaasTest::wait_for(sub { !$t->workers('burner') }, 15),
   'burner: scaled to zero');
is($t->http_get('/fn/burner/')->{body}, "burner ok\n",
   'burner: served again, cold');
$n = () = $t->runner_log =~ /zygote \d+ of "burner" started/g;
is($n, 1, 'and its zygote is not made again');

# --- an app that forks while imported --------------------------------------

is($t->http_get('/fn/forker/')->{body}, "forker ok\n",
   'an app that forks at its import: served');
ok($t->wait_log(qr/zygote \d+ of "forker" has 1 process\(es\) of its own, which its app started: killed/, 10),
   '... its zygote\'s child is found, killed');
ok($t->wait_log(qr/zygote \d+ of "forker" started processes nobody bills; its workers start cold/, 5),
   '... and the zygote retired: its workers start cold');
sub sleepers {
    return grep { (FaasTest::read_file("$_/cmdline") // '') eq "sleep\0003601\0"
                  && FaasTest::read_file("$_/stat") !~ /^\d+ \(.*\) Z/s }
           glob '/proc/[0-9]*';
}
ok(-e "$fkdir/out/forked", '(its app forked while imported)');
ok(FaasTest::wait_for(sub { !sleepers() }, 10),
   "... the zygote's child is gone") or diag(join ' ', sleepers());
is($t->http_get('/fn/forker/')->{body}, "forker ok\n", '... served again');

# --- what a server checks (PEP 3333) --------------------------------------

$r = $t->fcgi_call('strict', params => [REQUEST_METHOD => 'POST',
                                        QUERY_STRING => 'input',
                                        CONTENT_LENGTH => 3],
                   stdin => 'abcdef');
like($r->{stdout} // '', qr/\r\n\r\n\[abc\]\z/,
     'wsgi.input: CONTENT_LENGTH bytes of a longer body');
for my $q ('status', 'digits') {
    is($t->http_get("/fn/strict?$q")->{status}, 500,
       "an app's bad response ($q): 500");
}
like($t->runner_log, qr/invalid header \('Status', '404 Not Found'\)/,
     '... the app\'s error in the log');
$r = $t->fcgi_call('strict', params => [QUERY_STRING => 'hop']);
like($r->{stdout} // '', qr/\r\nX-Kept: yes\r\n\r\nhop\z/,
     'hop-by-hop headers: the response as it is...');
unlike($r->{stdout} // '', qr/Transfer-Encoding|Connection/i,
       '... without them (gunicorn drops them too)');
$r = $t->fcgi_call('strict', params => [QUERY_STRING => 'over']);
like($r->{stdout} // '', qr/\r\n\r\nabc\z/,
     'a body past its Content-Length: cut there, by the worker');
$r = $t->http_get('/fn/strict?close');
is($r->{status}, 200, 'close() fails after the whole body: 200');
is($r->{body}, 'whole', '... the body whole');
like($t->runner_log, qr/RuntimeError: close failed/, '... the failure logged');
$r = $t->http_get('/fn/strict?ctl');
is($r->{status}, 500, 'a control character in a header value: 500');
$r = $t->fcgi_call('strict', params => [QUERY_STRING => 'tab']);
like($r->{stdout} // '', qr/\r\nX-A: a\tb\r\n\r\ntab\z/,
     '... a tab is no control character there');
$r = $t->http_get('/fn/strict?hangclose');
is($r->{status}, 200, 'close() hangs after the whole body: 200');
is($r->{body}, 'given', '... the body given (sent before close() ran)');
$r = $t->http_get('/fn/strict?none');
is($r->{status}, 500, 'a list with None after bytes: 500 (nothing had gone)');
is($r->{body}, "Internal Server Error\n", '... whole, not a cut 200');
$r = $t->http_get('/fn/strict?recover');
is($r->{status}, 500, 'start_response again with exc_info: its status');
is($r->{body}, 'an error occurred', '... the body whole: the first '
   . 'Content-Length forgotten');
$r = $t->fcgi_call('strict', params => [QUERY_STRING => 'writecl']);
like($r->{stdout} // '', qr/\r\n\r\nhello\z/,
     'the write() callable: cut at its Content-Length too');
unlike(FaasTest::read_file($t->prefix . '/logs/error.log'),
       qr/upstream sent more data than specified/,
       '... nginx got no more than it said');
$r = $t->fcgi_call('strict', params => [QUERY_STRING => 'padcl']);
like($r->{stdout} // '', qr/\r\n\r\nhello\z/,
     'a Content-Length with blanks: the body cut at its number');
is($t->http_get('/fn/strict?twocl')->{status}, 500,
   'two Content-Lengths: the app\'s error, 500');
$r = $t->http_get('/fn/strictbig?huge', timeout => 60);
is($r->{status}, 200, 'one body of 96 MiB, memory = 256M: 200');
is(length($r->{body}), 96 << 20, '... every byte') or
    diag(substr($t->runner_log, -600));
FaasTest::wait_for(sub { my @l = FaasTest::read_file($mlog)
                                 =~ /function=strict(big)? /g; @l >= 5 }, 5);
unlike(FaasTest::read_file($mlog), qr/function=strict(big)? .*outcome=crashed/,
       '... and the invocation is not a crash');

# --- keys ---------------------------------------------------------------

my $bad = FaasTest->new;
$bad->function('noapp', "runtime = python\n");
$bad->function('badapp', "runtime = python\napp = ../x:app\n");
$bad->function('ruby', "runtime = ruby\napp = a:b\n");
$bad->function('php', "runtime = php\n");
$bad->function('both', "runtime = python\napp = a:b\nexec = /bin/true\n");
$bad->function('cgi', "runtime = python\napp = a:b\nmode = cgi\n");
$bad->function('up', "runtime = python\napp = a:b\npython.path = ../other\n");
$bad->function('abs', "runtime = python\napp = a:b\npython.path = /etc\n");
$bad->function('empty', "runtime = python\napp = a:\n");
$bad->function('fine', "runtime = python\napp = a.b:c.d\npython.path = lib\n");
my $out = `$t->{runner_bin} --test --functions @{[ $bad->functions_dir ]} 2>&1`;
is($? >> 8, 1, '--test: bad runtime keys exit 1');
like($out, qr/noapp\/function.conf:1: runtime = python needs app/,
     'no app: told');
like($out, qr/badapp\/function.conf:2: runtime = python needs app/,
     'app = ../x: told');
like($out, qr/ruby\/function.conf:1: unknown runtime "ruby": php or python/,
     'ruby: told');
like($out, qr/function "php": script "index.php" not found/,
     'php without its index.php: told');
like($out, qr/both\/function.conf:1: runtime = python runs its app: no exec/,
     'exec with a runtime: told');
like($out, qr/cgi\/function.conf:1: runtime = python runs its app/,
     'mode = cgi with a runtime: told');
like($out, qr/up\/function.conf:3: python.path/, 'python.path above: told');
like($out, qr/abs\/function.conf:3: python.path/, 'python.path absolute: told');
like($out, qr/empty\/function.conf:2: runtime = python needs app/,
     'app = a: told');
unlike($out, qr/"?fine/, 'a good one is not');

kill 'TERM', $gpid;
waitpid($gpid, 0);
$t->done;
done_testing;
