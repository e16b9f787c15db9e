%% What the Erlang twins (plexus_bench.erl, plexus_remote_bench.erl) share:
%% choosing benchmarks by name, running a repetition in a fresh process,
%% the JSON line each benchmark prints, and time.
-module(plexus_bench_harness).

-export([select/2, in_fresh_process/1, to_json/3, now_ns/0, seconds/2]).

%% The {Name, Fun} of Benchmarks whose name matches the regex Filter, given
%% as `-run` passes it (a list of strings) or as `-s` does (atoms).
select([], Benchmarks) -> select(["."], Benchmarks);
select([Filter | _], Benchmarks) when is_atom(Filter) ->
    select([atom_to_list(Filter)], Benchmarks);
select([Filter | _], Benchmarks) ->
    {ok, RE} = re:compile(Filter),
    [B || {Name, _} = B <- Benchmarks, re:run(Name, RE, [{capture, none}]) =:= match].

%% Fun's result, run in a fresh process so that no state (heap, message
%% queue, monitors) leaks from one repetition into the next.
in_fresh_process(Fun) ->
    {Pid, Ref} = spawn_monitor(fun() -> exit({result, Fun()}) end),
    receive
        {'DOWN', Ref, process, Pid, {result, R}} -> R;
        {'DOWN', Ref, process, Pid, Other} -> erlang:error({benchmark_failed, Other})
    end.

%% One JSON object for a benchmark's runs. Each run is a map with at least
%% items and seconds (the measured phase); items_per_second is the best run.
%% Extra: more {Key, Value} fields, after items_per_second.
to_json(Name, Runs, Extra) ->
    Rates = [maps:get(items, R) / maps:get(seconds, R) || R <- Runs],
    Fields = [{"name", {str, Name}},
              {"items_per_second", lists:max(Rates)}] ++ Extra ++
             [{"aggregate", {str, "best"}},
              {"repetitions", length(Runs)},
              {"items", maps:get(items, hd(Runs))},
              {"runs_items_per_second", Rates}],
    "{" ++ lists:join(",", [json_kv(K, V) || {K, V} <- Fields]) ++ "}".

json_kv(K, V) -> "\"" ++ K ++ "\":" ++ json_val(V).

json_val(V) when is_integer(V) -> integer_to_list(V);
json_val(V) when is_float(V) -> float_to_list(V, [{decimals, 1}]);
json_val({str, S}) -> "\"" ++ S ++ "\"";
json_val(L) when is_list(L) ->
    "[" ++ lists:join(",", [json_val(X) || X <- L]) ++ "]".

now_ns() -> erlang:monotonic_time(nanosecond).

seconds(T0, T1) -> (T1 - T0) / 1.0e9.
