%% Erlang/OTP twins of the remote benchmarks of `plexus-bench`
%% (bench/remote_bench.cpp): two nodes on 127.0.0.1, same sizes, same timing
%% boundaries.
%%
%%   BM_RemoteSend      1,000,000 small messages one way from a process on
%%                      node a to a process on node b, acked after the last
%%   BM_RemotePingPong  100,000 round trips between a process on a and one on b
%%   BM_RemoteSpawn     100,000 remote spawns from a on b, pipelined
%%                      (erlang:spawn_request/5, then every spawn_reply)
%%   BM_NodeDownStorm   a process on a monitors 100,000 processes on b; b is
%%                      halted (a crash: the connection drops); time until a
%%                      has every 'DOWN' (reason noconnection), and a's worst
%%                      ping latency meanwhile
%%   BM_ZenNodeDownCalm a "guild" process on a monitors 1,000,000 processes on
%%                      b with plain erlang:monitor/2 (Erlang has no zen
%%                      monitor) and serves a work request every millisecond;
%%                      b is halted; time until the guild has every 'DOWN',
%%                      and the guild's work latency meanwhile (p99, worst)
%%
%% This node (a) becomes distributed when a benchmark is selected; node b is
%% a fresh peer node (peer:start/1) for every run, started before the clock
%% starts. Node b gets the emulator flags in PLEXUS_BENCH_ERL_NODE_FLAGS,
%% which run.sh also gives node a (default "+S 1": one scheduler per node,
%% as each Plexus node in plexus-bench has).
%%
%% Every benchmark is run ?REPS times; items_per_second is the best run. For
%% BM_NodeDownStorm, storm_ms is the fastest run's storm and worst_ping_us /
%% quiet_ping_us the largest over the runs.
%%
%% Ping latency (BM_NodeDownStorm): a local pinger waits 1 ms, pings a local
%% ponger and waits for the pong; its latency is the time from the end of the
%% 1 ms wait (when the ping was due) to the pong, so it counts both how late
%% the pinger ran and the round trip. worst_ping_us covers the pings that
%% overlap the storm, quiet_ping_us those of the 200 ms before it.
%%
%% Output: one JSON object per benchmark on stdout, as plexus_bench.erl.
%%
%% Run (see run.sh):
%%   erl -noshell -pa DIR -run plexus_remote_bench main 'REGEX' -s init stop
-module(plexus_remote_bench).

-export([main/0, main/1]).
%% Run on node b.
-export([receiver/2, ponger/2, noop/0, spawn_waiters/1, waiter/0]).

-define(REPS, 3).
-define(COOKIE, 'plexus-bench-cookie').

-define(SEND_N, 1000000).
-define(PINGPONG_N, 100000).
-define(SPAWN_N, 100000).
-define(STORM_N, 100000).
-define(QUIET_MS, 200).
-define(CALM_N, 1000000).

benchmarks() ->
    [{"BM_RemoteSend", fun remote_send_run/0},
     {"BM_RemotePingPong", fun remote_pingpong_run/0},
     {"BM_RemoteSpawn", fun remote_spawn_run/0},
     {"BM_NodeDownStorm", fun node_down_storm_run/0},
     {"BM_ZenNodeDownCalm", fun zen_node_down_calm_run/0}].

%%--------------------------------------------------------------------------
%% Entry points
%%--------------------------------------------------------------------------

main() -> main([]).

main(Args) ->
    case plexus_bench_harness:select(Args, benchmarks()) of
        [] -> ok;
        Selected ->
            start_distribution(),
            [run_benchmark(Name, Fun) || {Name, Fun} <- Selected],
            ok
    end.

start_distribution() ->
    _ = os:cmd("epmd -daemon"),
    Name = list_to_atom("plexus_bench_" ++ os:getpid() ++ "_a@127.0.0.1"),
    {ok, _} = net_kernel:start([Name, longnames]),
    true = erlang:set_cookie(node(), ?COOKIE),
    ok.

%% A fresh node b on 127.0.0.1 that loads this module from the same path.
start_peer() ->
    N = case get(peer_count) of undefined -> 1; C -> C + 1 end,
    put(peer_count, N),
    Name = list_to_atom("plexus_bench_" ++ os:getpid() ++ "_b" ++ integer_to_list(N)),
    Ebin = filename:dirname(code:which(?MODULE)),
    {ok, Peer, Node} =
        peer:start(#{name => Name, host => "127.0.0.1", longnames => true,
                     args => ["-setcookie", atom_to_list(?COOKIE), "-pa", Ebin,
                              "+P", "2000000" | node_flags()]}),
    {module, ?MODULE} = erpc:call(Node, code, ensure_loaded, [?MODULE]),
    {Peer, Node}.

%% Emulator flags of both nodes (run.sh passes the same to node a), from
%% PLEXUS_BENCH_ERL_NODE_FLAGS.
node_flags() ->
    case os:getenv("PLEXUS_BENCH_ERL_NODE_FLAGS") of
        false -> [];
        Flags -> string:lexemes(Flags, " ")
    end.

stop_peer({Peer, Node}) ->
    case lists:member(Node, nodes()) of
        true -> catch peer:stop(Peer);
        false -> ok
    end,
    ok.

run_benchmark(Name, Fun) ->
    Runs = [plexus_bench_harness:in_fresh_process(Fun) || _ <- lists:seq(1, ?REPS)],
    io:format("~s~n", [to_json(Name, Runs)]).

to_json(Name, Runs) ->
    Extra =
        case Name of
            "BM_NodeDownStorm" ->
                [{"storm_ms", lists:min([maps:get(seconds, R) * 1000 || R <- Runs])},
                 {"worst_ping_us", lists:max([maps:get(worst_ping_us, R) || R <- Runs])},
                 {"quiet_ping_us", lists:max([maps:get(quiet_ping_us, R) || R <- Runs])},
                 {"runs_storm_ms", [maps:get(seconds, R) * 1000 || R <- Runs]},
                 {"runs_worst_ping_us", [maps:get(worst_ping_us, R) || R <- Runs]}];
            "BM_ZenNodeDownCalm" ->
                [{"all_downs_s", lists:min([maps:get(seconds, R) || R <- Runs])},
                 {"work_p99_ms", lists:max([maps:get(work_p99_ms, R) || R <- Runs])},
                 {"work_max_ms", lists:max([maps:get(work_max_ms, R) || R <- Runs])},
                 {"runs_all_downs_s", [maps:get(seconds, R) || R <- Runs]},
                 {"runs_work_p99_ms", [maps:get(work_p99_ms, R) || R <- Runs]},
                 {"runs_work_max_ms", [maps:get(work_max_ms, R) || R <- Runs]}];
            _ -> []
        end,
    plexus_bench_harness:to_json(Name, Runs, Extra).

now_ns() -> plexus_bench_harness:now_ns().

seconds(T0, T1) -> plexus_bench_harness:seconds(T0, T1).

%%--------------------------------------------------------------------------
%% BM_RemoteSend
%%--------------------------------------------------------------------------

remote_send_run() ->
    N = ?SEND_N,
    {_, B} = P = start_peer(),
    Receiver = spawn(B, ?MODULE, receiver, [N, self()]),
    %% ---- timed: from the first send until the ack is back -------------------
    T0 = now_ns(),
    send_n(Receiver, 0, N),
    InOrder = receive {ack, C} -> C end,
    T1 = now_ns(),
    %% ---- end of timed phase --------------------------------------------------
    N = InOrder,
    stop_peer(P),
    #{items => N, seconds => seconds(T0, T1)}.

send_n(_To, N, N) -> ok;
send_n(To, I, N) ->
    To ! I,
    send_n(To, I + 1, N).

%% On b: receives N integers, counts those that came in order, acks.
receiver(N, AckTo) -> receive_n(0, N, 0, AckTo).

receive_n(N, N, InOrder, AckTo) -> AckTo ! {ack, InOrder};
receive_n(I, N, InOrder, AckTo) ->
    receive
        I -> receive_n(I + 1, N, InOrder + 1, AckTo);
        _ -> receive_n(I + 1, N, InOrder, AckTo)
    end.

%%--------------------------------------------------------------------------
%% BM_RemotePingPong
%%--------------------------------------------------------------------------

remote_pingpong_run() ->
    N = ?PINGPONG_N,
    {_, B} = P = start_peer(),
    Ponger = spawn(B, ?MODULE, ponger, [self(), N]),
    %% ---- timed: N round trips ------------------------------------------------
    T0 = now_ns(),
    ping(Ponger, 0, N),
    T1 = now_ns(),
    %% ---- end of timed phase --------------------------------------------------
    stop_peer(P),
    #{items => N, seconds => seconds(T0, T1)}.

ping(_Ponger, N, N) -> ok;
ping(Ponger, I, N) ->
    Ponger ! I,
    receive I -> ok end,
    ping(Ponger, I + 1, N).

%% On b: answers N pings with their number; knows the pinger from the start.
ponger(_Pinger, 0) -> ok;
ponger(Pinger, K) ->
    receive I -> Pinger ! I end,
    ponger(Pinger, K - 1).

%%--------------------------------------------------------------------------
%% BM_RemoteSpawn
%%--------------------------------------------------------------------------

remote_spawn_run() ->
    N = ?SPAWN_N,
    {_, B} = P = start_peer(),
    %% ---- timed: every spawn_request, then every spawn_reply -----------------
    T0 = now_ns(),
    request_n(B, N),
    Ok = collect_replies(N, 0),
    T1 = now_ns(),
    %% ---- end of timed phase --------------------------------------------------
    N = Ok,
    stop_peer(P),
    #{items => N, seconds => seconds(T0, T1)}.

request_n(_B, 0) -> ok;
request_n(B, K) ->
    _ = erlang:spawn_request(B, ?MODULE, noop, [], []),
    request_n(B, K - 1).

collect_replies(0, Ok) -> Ok;
collect_replies(K, Ok) ->
    receive
        {spawn_reply, _ReqId, ok, _Pid} -> collect_replies(K - 1, Ok + 1);
        {spawn_reply, _ReqId, error, _Reason} -> collect_replies(K - 1, Ok)
    end.

noop() -> ok.

%%--------------------------------------------------------------------------
%% BM_NodeDownStorm
%%--------------------------------------------------------------------------

node_down_storm_run() ->
    N = ?STORM_N,
    {_, B} = start_peer(),
    %% Untimed setup: N processes on b, each monitored from here.
    Pids = erpc:call(B, ?MODULE, spawn_waiters, [N], infinity),
    N = length(Pids),
    [erlang:monitor(process, P) || P <- Pids],
    %% b has seen every monitor once a call behind them has come back.
    B = erpc:call(B, erlang, node, []),
    Ponger = spawn(fun local_ponger/0),
    Pinger = spawn(fun() -> pinger(Ponger, []) end),
    timer:sleep(?QUIET_MS),
    %% ---- timed: from halting b until every 'DOWN' is here --------------------
    T0 = now_ns(),
    erpc:cast(B, erlang, halt, [0, [{flush, false}]]),
    {NoConnection, Other} = receive_downs(N, 0, 0),
    T1 = now_ns(),
    %% ---- end of timed phase --------------------------------------------------
    Pinger ! {stop, self()},
    Samples = receive {samples, S} -> S end,
    Ponger ! stop,
    {N, 0} = {NoConnection, Other},
    Worst = worst_latency(Samples, T0, T1),
    Quiet = worst_latency(Samples, T0 - ?QUIET_MS * 1000000, T0),
    #{items => N, seconds => seconds(T0, T1),
      worst_ping_us => Worst / 1000, quiet_ping_us => Quiet / 1000}.

%% On b: N processes waiting in receive (unlinked, so they outlive the call).
spawn_waiters(N) -> [spawn(?MODULE, waiter, []) || _ <- lists:seq(1, N)].

waiter() -> receive stop -> ok end.

receive_downs(0, NoConnection, Other) -> {NoConnection, Other};
receive_downs(K, NoConnection, Other) ->
    receive
        {'DOWN', _, process, _, noconnection} -> receive_downs(K - 1, NoConnection + 1, Other);
        {'DOWN', _, process, _, _} -> receive_downs(K - 1, NoConnection, Other + 1)
    end.

%% Pings every millisecond; a sample is {Due, Done}: when the ping was due
%% (the end of the 1 ms wait) and when its pong came.
pinger(Ponger, Samples) ->
    Due = now_ns() + 1000000,
    receive
        {stop, From} -> From ! {samples, Samples}
    after 1 ->
        Ponger ! {ping, self()},
        receive pong -> ok end,
        pinger(Ponger, [{Due, now_ns()} | Samples])
    end.

local_ponger() ->
    receive
        {ping, From} -> From ! pong, local_ponger();
        stop -> ok
    end.

%% The largest Done - Due of the pings that overlap [From, To].
worst_latency(Samples, From, To) ->
    lists:max([0 | [Done - Due || {Due, Done} <- Samples, Done >= From, Due =< To]]).

%%--------------------------------------------------------------------------
%% BM_ZenNodeDownCalm
%%--------------------------------------------------------------------------

zen_node_down_calm_run() ->
    N = ?CALM_N,
    {_, B} = start_peer(),
    Self = self(),
    Pids = erpc:call(B, ?MODULE, spawn_waiters, [N], infinity),
    N = length(Pids),
    Guild = spawn(fun() -> guild(Pids, Self) end),
    receive {monitored, Guild} -> ok end,
    %% b has seen every monitor once a call behind them has come back.
    B = erpc:call(B, erlang, node, []),
    %% The work requests are the latency probe's pings (see pinger/2).
    Worker = spawn(fun() -> pinger(Guild, []) end),
    timer:sleep(?QUIET_MS),
    %% ---- timed: from halting b until the guild has every 'DOWN' --------------
    T0 = now_ns(),
    erpc:cast(B, erlang, halt, [0, [{flush, false}]]),
    T1 = receive {all_downs, Guild, T} -> T end,
    %% ---- end of timed phase --------------------------------------------------
    Worker ! {stop, self()},
    Samples = receive {samples, S} -> S end,
    exit(Guild, kill),
    Latencies = lists:sort([Done - Due || {Due, Done} <- Samples, Done >= T0, Due =< T1]),
    #{items => N, seconds => seconds(T0, T1),
      work_p99_ms => percentile(Latencies, 99) / 1.0e6,
      work_max_ms => lists:last(Latencies) / 1.0e6}.

%% Monitors every target, then serves work and counts the 'DOWN's.
guild(Pids, Report) ->
    [erlang:monitor(process, P) || P <- Pids],
    Report ! {monitored, self()},
    guild_loop(length(Pids), Report).

guild_loop(0, Report) ->
    Report ! {all_downs, self(), now_ns()},
    guild_serve();
guild_loop(K, Report) ->
    receive
        {ping, From} -> From ! pong, guild_loop(K, Report);
        {'DOWN', _, process, _, _} -> guild_loop(K - 1, Report)
    end.

guild_serve() ->
    receive {ping, From} -> From ! pong, guild_serve() end.

percentile(Sorted, P) ->
    lists:nth(min(length(Sorted), length(Sorted) * P div 100 + 1), Sorted).
