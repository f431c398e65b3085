"""The llmplan Python package against the llmplan program: for each case the function's dict must
equal what `llmplan COMMAND ... --json` prints (the command line written out by hand, as a user
would type it), and bad input must raise ValueError with the program's own error line.

Run by ctest (python.api) with PYTHONPATH=build/python and LLMPLAN_CLI=build/llmplan,
LLMPLAN_SOURCE_DIR=the repository."""

import json
import os
import re
import shlex
import subprocess
import warnings

import pytest

import llmplan

CLI = os.environ["LLMPLAN_CLI"]
SOURCE = os.environ["LLMPLAN_SOURCE_DIR"]
DATA = os.path.join(SOURCE, "tests", "data")
FIT_CSV = os.path.join(DATA, "chinchilla_fig4_points.csv")
HF_QWEN3_MOE = os.path.join(DATA, "hf", "tiny-qwen3_moe.json")


def strict_loads(text):
    """JSON as the CLI prints it; NaN and infinities are not JSON and fail the test."""
    def refuse(name):
        raise AssertionError(f"non-finite number {name} in a report")
    return json.loads(text, parse_constant=refuse)


def cli(command_line):
    """`llmplan COMMAND_LINE` as a process: (exit code, stdout, stderr)."""
    p = subprocess.run([CLI, *shlex.split(command_line)], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def cli_json(command_line):
    code, out, err = cli(command_line + " --json")
    assert code == 0, err
    return strict_loads(out)


# (function, positional arguments, keyword arguments, the same job as a command line)
CASES = [
    ("plan", [], dict(model="llama-2-7b"), "plan --model llama-2-7b"),
    ("plan", [], dict(model="llama-2-7b", gpus=8, zero=1), "plan --model llama-2-7b --gpus 8 --zero 1"),
    ("plan", [], dict(model="llama-3-8b", gpus=16, tp=2, pp=2, sp=True, micro_batch=2, recompute="full",
                      precision="fp8", global_batch=64),
     "plan --model llama-3-8b --gpus 16 --tp 2 --pp 2 --sp --micro-batch 2 --recompute full --precision fp8 "
     "--global-batch 64"),
    ("plan", [], dict(params="13B", gpus=64, zero=3, precision="mixed-fp16", optimizer="adafactor", offload="optimizer",
                      gpu="a100-80g", tokens=2.6e11, price_per_gpu_hour=2.5),
     "plan --params 13B --gpus 64 --zero 3 --precision mixed-fp16 --optimizer adafactor --offload optimizer "
     "--gpu a100-80g --tokens 260000000000 --price-per-gpu-hour 2.5"),
    ("plan", [], dict(model="llama-2-70b", gpus=64, tp=8, pp=4, virtual_stages=2, framework="megatron", sp=True,
                      recompute="selective"),
     "plan --model llama-2-70b --gpus 64 --tp 8 --pp 4 --virtual-stages 2 --framework megatron --sp "
     "--recompute selective"),
    ("plan", [], dict(model="llama-2-7b", gpus=8, zero=2, framework="deepspeed",
                      framework_option={"reduce_bucket_size": 2e8}),
     "plan --model llama-2-7b --gpus 8 --zero 2 --framework deepspeed --framework-option reduce_bucket_size=200000000"),
    ("plan", [], dict(model="llama-3-8b", gpus=8, zero=3, framework="torchtitan", recompute="full"),
     "plan --model llama-3-8b --gpus 8 --zero 3 --framework torchtitan --recompute full"),
    ("plan", [], dict(model="gpt2-124m", framework="pytorch", micro_batch=8, seq=1024),
     "plan --model gpt2-124m --framework pytorch --micro-batch 8 --seq 1024"),
    ("plan", [], dict(model="gpt2-124m", framework="llmplan", micro_batch=16, seq=1024, attention="eager",
                      precision="fp32"),
     "plan --model gpt2-124m --framework llmplan --micro-batch 16 --seq 1024 --attention eager --precision fp32"),
    ("plan", [], dict(model="llama-3-8b", lora_rank=16, lora_targets=["q", "k", "v", "o"], base_quant="nf4",
                      compare_finetune=True),
     "plan --model llama-3-8b --lora-rank 16 --lora-targets q,k,v,o --base-quant nf4 --compare-finetune"),
    ("plan", [], dict(model="mixtral-8x7b", gpus=32, ep=8, tp=2, sp=True, zero=1),
     "plan --model mixtral-8x7b --gpus 32 --ep 8 --tp 2 --sp --zero 1"),
    ("plan", [], dict(model="qwen3-30b-a3b", gpus=16, tp=2, sp=True, ep=16, etp=1, zero=1, framework="megatron"),
     "plan --model qwen3-30b-a3b --gpus 16 --tp 2 --sp --ep 16 --etp 1 --zero 1 --framework megatron"),
    ("plan", [], dict(model="llama-2-7b", gpus=16, pp=2, pp_layers=[15, 17], goodput=0.9, power_limit=500,
                      gpu_memory="40GiB"),
     "plan --model llama-2-7b --gpus 16 --pp 2 --pp-layers 15,17 --goodput 0.9 --power-limit 500 --gpu-memory 40GiB"),
    ("plan", [], dict(model="llama-2-7b", gpus=1024, mtbf_hours=50000, checkpoint_minutes=2, restart_minutes=10,
                      batch_rampup="1B", zero=1, pue=1.1),
     "plan --model llama-2-7b --gpus 1024 --mtbf-hours 50000 --checkpoint-minutes 2 --restart-minutes 10 "
     "--batch-rampup 1B --zero 1 --pue 1.1"),
    ("plan", [], dict(hf_config=HF_QWEN3_MOE, gpus=4, zero=2), f"plan --hf-config {HF_QWEN3_MOE} --gpus 4 --zero 2"),
    ("search", [], dict(model="llama-2-7b", gpus=64, micro_batches=[1, 2, 4], zero_stages=(0, 1), top=5),
     "search --model llama-2-7b --gpus 64 --micro-batches 1,2,4 --zero-stages 0,1 --top 5 --quiet"),
    ("search", [], dict(model="llama-2-70b", gpus=256, rank="memory", recompute="full", framework="megatron"),
     "search --model llama-2-70b --gpus 256 --rank memory --recompute full --framework megatron --quiet"),
    ("scaling", [], dict(compute=5.76e23), "scaling --compute 5.76e23"),
    ("scaling", [], dict(params="70B", tokens="1.4T", law="chinchilla"),
     "scaling --params 70B --tokens 1.4T --law chinchilla"),
    ("scaling", [], dict(gpu_hours=1e6, gpu="a100-80g", mfu=0.45, inference_tokens=1e13),
     "scaling --gpu-hours 1000000 --gpu a100-80g --mfu 0.45 --inference-tokens 1e13"),
    ("scaling", [], dict(isoflop=[1e20, 1e21], points=5, law="kaplan"),
     "scaling --isoflop 1e20,1e21 --points 5 --law kaplan"),
    ("scaling", [], dict(fit=FIT_CSV, compute=1e22), f"scaling --fit {FIT_CSV} --compute 1e22"),
    ("infer", [], dict(model="llama-3-8b"), "infer --model llama-3-8b"),
    ("infer", [], dict(model="llama-2-70b", weights="int4", tp=4, batch=32, prompt=2048, generate=512, kv_cache="fp8"),
     "infer --model llama-2-70b --weights int4 --tp 4 --batch 32 --prompt 2048 --generate 512 --kv-cache fp8"),
    ("infer", [], dict(model="llama-3-8b", framework="vllm", gpu_memory_utilization=0.85, block_size=32, batch=64),
     "infer --model llama-3-8b --framework vllm --gpu-memory-utilization 0.85 --block-size 32 --batch 64"),
    ("infer", [], dict(model="gpt2-124m", framework="hf", forward_only=True, autograd=True, prompt=128),
     "infer --model gpt2-124m --framework hf --forward-only --autograd --prompt 128"),
    ("models", [], {}, "models"),
    ("models", ["llama-2-70b"], {}, "models llama-2-70b"),
    ("models", ["deepseek-v3"], {}, "models deepseek-v3"),
    ("models", [], dict(hf_config=HF_QWEN3_MOE), f"models --hf-config {HF_QWEN3_MOE}"),
    ("gpus", [], {}, "gpus"),
]

# The search's own wall time differs from run to run; everything else must be equal.
SEARCH_TIMING = ("seconds", "layouts_per_second")


@pytest.mark.parametrize("function,positional,options,command_line", CASES,
                         ids=[c[3][:70] for c in CASES])
def test_same_report_as_the_cli(function, positional, options, command_line):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", llmplan.LlmplanWarning)
        got = getattr(llmplan, function)(*positional, **options)
    want = cli_json(command_line)
    if function == "search":
        for key in SEARCH_TIMING:
            assert got.pop(key) >= 0 and want.pop(key) >= 0
    assert isinstance(got, dict) and got  # a report, never empty
    assert got == want


def test_search_without_a_fitting_layout_returns_its_report():
    # The program exits 1 with its whole report and no error line: the answer is "none".
    code, out, err = cli("search --model llama-2-70b --gpus 30 --rank memory --max-pp 6 --quiet --json")
    assert (code, err) == (1, "")
    want = strict_loads(out)
    got = llmplan.search(model="llama-2-70b", gpus=30, rank="memory", max_pp=6)
    for key in SEARCH_TIMING:
        got.pop(key), want.pop(key)
    assert got == want
    assert got["layouts"] == [] and got["fitting"] == 0


def test_schema_names():
    assert llmplan.plan(model="gpt2-124m")["schema"] == "llmplan.plan/1"
    assert llmplan.infer(model="gpt2-124m")["schema"] == "llmplan.infer/1"
    assert llmplan.scaling(compute=1e21)["schema"] == "llmplan.scaling/1"
    assert llmplan.models()["schema"] == "llmplan.models/1"
    assert llmplan.models("gpt2-124m")["schema"] == "llmplan.model/1"
    assert llmplan.gpus()["schema"] == "llmplan.gpus/1"


def test_values_as_the_command_line_reads_them():
    # A float with an integral value is passed without ".0" (an integer flag refuses "8.0"), an
    # exponent without "+", strings as typed: all three name the same job.
    a = llmplan.plan(model="llama-2-7b", gpus=8.0, tokens=2e11)
    b = llmplan.plan(model="llama-2-7b", gpus="8", tokens="200B")
    assert a == b
    assert a["inputs"]["parallel"]["gpus"] == 8
    assert a["training"]["tokens"] == 200000000000
    # A known golden number of the plan (checked by hand in docs: 6,738,415,616 parameters).
    assert a["model"]["parameters"] == 6738415616


# (function, keyword arguments, the same command line): bad input, exit code 2 → ValueError
BAD = [
    ("plan", dict(model="no-such-model"), "plan --model no-such-model"),
    ("plan", dict(model="llama-2-7b", gpus="abc"), "plan --model llama-2-7b --gpus abc"),
    ("plan", dict(model="llama-2-7b", zero=4), "plan --model llama-2-7b --zero 4"),
    ("plan", dict(), "plan"),
    ("plan", dict(model="llama-2-7b", gpu_memory="80G"), "plan --model llama-2-7b --gpu-memory 80G"),
    ("plan", dict(model="llama-2-7b", framework_option={"no_such_key": 1}, framework="deepspeed"),
     "plan --model llama-2-7b --framework-option no_such_key=1 --framework deepspeed"),
    ("infer", dict(model="llama-3-8b", weights="int5"), "infer --model llama-3-8b --weights int5"),
    ("scaling", dict(compute=-1), "scaling --compute=-1"),
    ("search", dict(model="llama-2-7b", gpus=8, rank="speed", quiet=True), "search --model llama-2-7b --gpus 8 --rank speed --quiet"),
]


@pytest.mark.parametrize("function,options,command_line", BAD, ids=[b[2] for b in BAD])
def test_bad_input_raises_value_error_with_the_cli_line(function, options, command_line):
    code, _, err = cli(command_line + " --json")
    assert code == 2
    assert len(err.splitlines()) == 1
    with pytest.raises(ValueError) as e:
        getattr(llmplan, function)(**options)
    assert str(e.value) == err.strip()
    assert re.match(r"llmplan [a-z]+: error: ", str(e.value))


def test_unknown_keyword_names_the_flag():
    with pytest.raises(ValueError, match=r"^llmplan plan: error: .*--no-such-flag"):
        llmplan.plan(model="llama-2-7b", no_such_flag=3)


def test_output_format_keywords_are_refused():
    for key in ("json", "csv", "help", "version"):
        with pytest.raises(TypeError, match=f"{key}= is not taken"):
            llmplan.search(model="llama-2-7b", **{key: True})


def test_runtime_failure_raises_runtime_error(tmp_path):
    target = tmp_path / "missing-folder" / "plan.json"
    code, _, err = cli(f"plan --model llama-2-7b --report {target}")
    assert code == 1
    with pytest.raises(RuntimeError) as e:
        llmplan.plan(model="llama-2-7b", report=str(target))
    assert str(e.value) == err.strip()
    assert not target.exists()


def test_report_file_equals_the_returned_dict(tmp_path):
    target = tmp_path / "plan.json"
    got = llmplan.plan(model="llama-2-7b", gpus=8, zero=3, report=str(target))
    assert strict_loads(target.read_text()) == got


def test_warnings_are_issued_and_in_the_report():
    with pytest.warns(llmplan.LlmplanWarning) as record:
        got = llmplan.plan(model="llama-2-7b", gpus=1, zero=3)
    text = "ZeRO-3 on a single data-parallel rank shards nothing: memory is as with --zero 0"
    assert [str(w.message) for w in record] == [f"llmplan plan: warning: {text}"]
    assert got["warnings"] == [text]


def test_version_is_the_cli_version():
    code, out, _ = cli("--version")
    assert code == 0
    assert re.fullmatch(r"\d+\.\d+\.\d+", llmplan.__version__)
    # `llmplan --version` names the same version (after "llmplan ", whatever follows it).
    assert re.match(r"llmplan (\d+\.\d+\.\d+)", out).group(1) == llmplan.__version__


def test_docstrings_carry_the_cli_help():
    code, out, _ = cli("plan --help")
    assert code == 0
    assert out in llmplan.plan.__doc__
    assert "--micro-batches" in llmplan.search.__doc__
    assert "--weights" in llmplan.infer.__doc__


def test_no_gpu_library_is_loaded():
    llmplan.plan(model="llama-2-7b", gpus=8)
    llmplan.search(model="gpt2-124m", gpus=8, top=1)
    with open("/proc/self/maps") as f:
        maps = f.read()
    loaded = re.findall(r"\S*lib(?:cuda|cudart|cublas|cublasLt|nccl|mpi)[.-]\S*", maps)
    assert loaded == []


def test_extension_links_no_gpu_library():
    readelf = subprocess.run(["sh", "-c", "command -v readelf"], capture_output=True, text=True).stdout.strip()
    if not readelf:
        pytest.skip("readelf not found")
    dynamic = subprocess.run([readelf, "-d", llmplan._llmplan.__file__], capture_output=True, text=True, check=True).stdout
    needed = re.findall(r"\(NEEDED\).*\[(.*)\]", dynamic)
    assert needed  # the section was read
    assert [n for n in needed if re.match(r"lib(cuda|cudart|cublas|cublasLt|nccl|mpi)\b", n)] == []
