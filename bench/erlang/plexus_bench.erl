%% Erlang/OTP reference implementation of the Plexus benchmark suite.
%%
%% Mirrors the benchmarks of the C++ `plexus-bench` executable with the same
%% sizes and the same timing boundaries, so the two can be compared by
%% bench/compare.py:
%%
%%   BM_Spawn        spawn 1,000,000 processes waiting in receive
%%   BM_PingPong     1,000,000 round trips between two processes
%%   BM_FanIn        2 producers -> 1 consumer, 5,000,000 messages in total
%%   BM_MonitorDown  1,000,000 'DOWN' messages to one monitoring process
%%   BM_LinkExit     100,000 {'EXIT', W, killed} to one exit-trapping parent
%%
%% Every benchmark is run ?REPS times (no warm-up run); the reported
%% items_per_second is the BEST (highest) of those runs. For BM_Spawn,
%% bytes_per_process is the LARGEST resident-set growth seen over the runs
%% (later runs can reuse memory the allocators kept from earlier ones, so the
%% largest growth is the honest per-process cost).
%%
%% In BM_MonitorDown and BM_LinkExit the kills (exit(P, kill)) are sent by a
%% separate killer process, started before the clock starts and released by a
%% message, while the monitoring/parent process drains its mailbox.
%%
%% Output: one JSON object per benchmark on stdout, e.g.
%%   {"name":"BM_Spawn","items_per_second":...,"bytes_per_process":...}
%%
%% Run (see run.sh):
%%   erl +P 2000000 -noshell -pa DIR -run plexus_bench main 'REGEX' -s init stop
-module(plexus_bench).

-export([main/0, main/1]).

-define(REPS, 3).

-define(SPAWN_N, 1000000).
-define(PINGPONG_N, 1000000).
-define(FANIN_PRODUCERS, 2).
-define(FANIN_PER_PRODUCER, 2500000).
-define(MONITOR_N, 1000000).
-define(LINK_N, 100000).

benchmarks() ->
    [{"BM_Spawn", fun spawn_run/0},
     {"BM_PingPong", fun pingpong_run/0},
     {"BM_FanIn", fun fanin_run/0},
     {"BM_MonitorDown", fun monitor_down_run/0},
     {"BM_LinkExit", fun link_exit_run/0}].

%%--------------------------------------------------------------------------
%% Entry points
%%--------------------------------------------------------------------------

main() -> main([]).

main(Args) ->
    [run_benchmark(Name, Fun) || {Name, Fun} <- plexus_bench_harness:select(Args, benchmarks())],
    ok.

%% Runs one benchmark ?REPS times, each repetition in a fresh process so no
%% state (heap, message queue, monitors) leaks from one run into the next.
run_benchmark(Name, Fun) ->
    Runs = [begin
                R = plexus_bench_harness:in_fresh_process(Fun),
                wait_for_quiescence(),
                R
            end || _ <- lists:seq(1, ?REPS)],
    io:format("~s~n", [to_json(Name, Runs)]).

to_json(Name, Runs) ->
    Extra =
        case Name of
            "BM_Spawn" ->
                [{"bytes_per_process",
                  lists:max([maps:get(rss_bytes_per_process, R) || R <- Runs])},
                 {"erlang_memory_bytes_per_process",
                  lists:max([maps:get(erlang_bytes_per_process, R) || R <- Runs])},
                 {"runs_bytes_per_process",
                  [maps:get(rss_bytes_per_process, R) || R <- Runs]}];
            _ -> []
        end,
    plexus_bench_harness:to_json(Name, Runs, Extra).

%%--------------------------------------------------------------------------
%% Helpers
%%--------------------------------------------------------------------------

now_ns() -> plexus_bench_harness:now_ns().

seconds(T0, T1) -> plexus_bench_harness:seconds(T0, T1).

%% VmRSS of the emulator, read the same way a C++ program reads its own.
rss_bytes() ->
    {ok, Bin} = file:read_file("/proc/self/status"),
    {match, [Kb]} = re:run(Bin, "VmRSS:\\s*([0-9]+)\\s*kB",
                           [{capture, all_but_first, list}]),
    list_to_integer(Kb) * 1024.

%% Blocks until every child started by the previous run has terminated, so
%% the next run starts from the same process count.
wait_for_quiescence() ->
    Base = get_base_count(),
    wait_process_count(Base),
    erlang:garbage_collect().

get_base_count() ->
    case get(base_process_count) of
        undefined ->
            N = erlang:system_info(process_count),
            put(base_process_count, N),
            N;
        N -> N
    end.

wait_process_count(Base) ->
    case erlang:system_info(process_count) =< Base of
        true -> ok;
        false -> timer:sleep(5), wait_process_count(Base)
    end.

%% Spins until counter slot 1 reaches N (every child has checked in).
wait_counter(C, N) ->
    case counters:get(C, 1) >= N of
        true -> ok;
        false -> erlang:yield(), wait_counter(C, N)
    end.

%% Body of an idle child: check in, then block in receive.
idle(C) ->
    counters:add(C, 1, 1),
    receive stop -> ok end.

%%--------------------------------------------------------------------------
%% BM_Spawn
%%--------------------------------------------------------------------------

spawn_run() ->
    N = ?SPAWN_N,
    C = counters:new(1, [write_concurrency]),
    %% Remember what already exists so the children can be found afterwards
    %% without holding a 1,000,000-element pid list during the spawn phase
    %% (that list would inflate the memory figures).
    Before = maps:from_keys(erlang:processes(), true),
    erlang:garbage_collect(),
    Rss0 = rss_bytes(),
    Mem0 = erlang:memory(processes),
    %% ---- timed: spawn phase -------------------------------------------
    T0 = now_ns(),
    spawn_n(N, C),
    wait_counter(C, N),          % every child spawned and in its receive
    T1 = now_ns(),
    %% ---- end of timed phase -------------------------------------------
    Rss1 = rss_bytes(),
    Mem1 = erlang:memory(processes),
    %% Untimed teardown: kill them all.
    Self = self(),
    [exit(P, kill) || P <- erlang:processes(),
                      P =/= Self, not maps:is_key(P, Before)],
    #{items => N,
      seconds => seconds(T0, T1),
      rss_bytes_per_process => (Rss1 - Rss0) / N,
      erlang_bytes_per_process => (Mem1 - Mem0) / N}.

spawn_n(0, _C) -> ok;
spawn_n(K, C) ->
    spawn(fun() -> idle(C) end),
    spawn_n(K - 1, C).

%%--------------------------------------------------------------------------
%% BM_PingPong
%%--------------------------------------------------------------------------

pingpong_run() ->
    N = ?PINGPONG_N,
    Pong = spawn(fun pong/0),
    Self = self(),
    Ping = spawn(fun() ->
                         %% ---- timed: N round trips, measured in ping --
                         T0 = now_ns(),
                         ping(Pong, self(), N),
                         T1 = now_ns(),
                         %% ---- end of timed phase ----------------------
                         Self ! {self(), done, T0, T1}
                 end),
    receive {Ping, done, T0, T1} -> ok end,
    Pong ! stop,
    #{items => N, seconds => seconds(T0, T1)}.

ping(_Pong, _Self, 0) -> ok;
ping(Pong, Self, K) ->
    Pong ! Self,
    receive pong -> ok end,
    ping(Pong, Self, K - 1).

pong() ->
    receive
        From when is_pid(From) -> From ! pong, pong();
        stop -> ok
    end.

%%--------------------------------------------------------------------------
%% BM_FanIn
%%--------------------------------------------------------------------------

fanin_run() ->
    PerProducer = ?FANIN_PER_PRODUCER,
    Total = ?FANIN_PRODUCERS * PerProducer,
    Self = self(),
    Consumer = spawn(fun() -> consume(Total), Self ! {consumer_done, now_ns()} end),
    Producers = [spawn(fun() ->
                               receive go -> ok end,
                               produce(Consumer, PerProducer)
                       end) || _ <- lists:seq(1, ?FANIN_PRODUCERS)],
    %% ---- timed: from releasing the producers until the consumer has
    %%      received every message ------------------------------------------
    T0 = now_ns(),
    [P ! go || P <- Producers],
    receive {consumer_done, T1} -> ok end,
    %% ---- end of timed phase (T1 is taken inside the consumer) -------------
    #{items => Total, seconds => seconds(T0, T1)}.

produce(_Consumer, 0) -> ok;
produce(Consumer, K) ->
    Consumer ! K,
    produce(Consumer, K - 1).

consume(0) -> ok;
consume(K) ->
    receive _ -> consume(K - 1) end.

%%--------------------------------------------------------------------------
%% BM_MonitorDown
%%--------------------------------------------------------------------------

%% Runs in the monitoring process itself. The kills are issued by a separate
%% process (as a driver thread would issue them from outside), so the
%% monitoring process can drain 'DOWN's while kills are still being sent.
monitor_down_run() ->
    N = ?MONITOR_N,
    C = counters:new(1, [write_concurrency]),
    %% Untimed setup: N monitored processes, all blocked in receive.
    Pids = [begin
                {P, _Ref} = spawn_monitor(fun() -> idle(C) end),
                P
            end || _ <- lists:seq(1, N)],
    Killer = spawn_killer(Pids),
    wait_counter(C, N),
    %% ---- timed: from the first kill until all N 'DOWN's are received -----
    T0 = now_ns(),
    Killer ! go,
    receive_downs(N),
    T1 = now_ns(),
    %% ---- end of timed phase -----------------------------------------------
    #{items => N, seconds => seconds(T0, T1)}.

%% The killer gets its copy of the pid list at spawn time (untimed) and
%% starts killing on 'go'.
spawn_killer(Pids) ->
    spawn(fun() -> receive go -> kill_all(Pids) end end).

kill_all([]) -> ok;
kill_all([P | Ps]) -> exit(P, kill), kill_all(Ps).

receive_downs(0) -> ok;
receive_downs(K) ->
    receive {'DOWN', _, process, _, killed} -> receive_downs(K - 1) end.

%%--------------------------------------------------------------------------
%% BM_LinkExit
%%--------------------------------------------------------------------------

%% Runs in the parent process itself; kills are issued by a separate process,
%% as in BM_MonitorDown.
link_exit_run() ->
    N = ?LINK_N,
    process_flag(trap_exit, true),
    C = counters:new(1, [write_concurrency]),
    %% Untimed setup: N linked workers, all blocked in receive.
    Workers = [spawn_link(fun() -> idle(C) end) || _ <- lists:seq(1, N)],
    Killer = spawn_killer(Workers),
    wait_counter(C, N),
    %% ---- timed: from the first kill until all N 'EXIT's are received -----
    T0 = now_ns(),
    Killer ! go,
    receive_exits(N),
    T1 = now_ns(),
    %% ---- end of timed phase -----------------------------------------------
    #{items => N, seconds => seconds(T0, T1)}.

receive_exits(0) -> ok;
receive_exits(K) ->
    receive {'EXIT', _, killed} -> receive_exits(K - 1) end.
