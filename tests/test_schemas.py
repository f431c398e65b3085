"""Every JSON report llmplan writes against its JSON Schema (schemas/, docs/REPORTS.md).

The reports: the built CLI run over many commands (every report kind and the optional blocks of
each: pipeline stages, uneven splits, LoRA, frameworks, goodput, the engine's kernels, vLLM, MLA,
fits, CPU profiles, ...) and the reports checked into the repository (validation/, docs/, bench/).
Each is validated twice: against its schema as published, and against a strict copy in which
every object described by `properties` admits no other key, so that a key a report writes and
the schema does not describe fails here (consumers keep the published, open form: new keys may
appear within a version). Numbers must be finite: NaN and infinities are not JSON.

Run by ctest (schemas.*) with LLMPLAN_CLI=build/llmplan and LLMPLAN_SOURCE_DIR=the repository;
`python3 tests/test_schemas.py --dump DIR` writes the generated reports to DIR.
"""

import copy
import glob
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

import jsonschema
import pytest

SOURCE = os.environ.get("LLMPLAN_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.environ.get("LLMPLAN_CLI", os.path.join(SOURCE, "build", "llmplan"))
SCHEMAS = os.path.join(SOURCE, "schemas")
DATA = os.path.join(SOURCE, "tests", "data")
GPT2 = os.path.join(DATA, "profile", "tiny-gpt2.json")
LLAMA = os.path.join(DATA, "profile", "tiny-llama.json")
FIT_CSV = os.path.join(DATA, "chinchilla_fig4_points.csv")
CALIBRATION = os.path.join(SOURCE, "validation", "engine", "calibration", "h100.json")
COLLECTIVES = os.path.join(SOURCE, "validation", "nccl", "calibration_2gpu_h100.json")

# Files the tool reads that carry no "schema" key, validated by name.
CLUSTER_FILE = {"gpu": "a100-80g", "gpus": 64, "gpus_per_node": 8, "inter_node_bandwidth": "8x200Gb/s",
                "nvlink_bandwidth": "240GB/s", "price_per_gpu_hour": 1.8, "pue": 1.1, "grid_intensity": 0.3}

# (kind, command line); {tmp} is a fresh folder, {cluster} a cluster file. Reports on stdout (--json).
COMMANDS = [
    "plan --model llama-2-7b",
    "plan --model llama-2-7b --gpus 8 --zero 3",
    "plan --model llama-2-7b --gpus 1 --zero 3",
    "plan --model llama-3-70b --gpus 64 --tp 8 --pp 4 --virtual-stages 2 --sp --recompute selective --zero 1",
    "plan --model llama-2-7b --gpus 16 --pp 2 --pp-layers 15,17",
    "plan --model llama-2-7b --gpus 32 --pp 4 --pp-first-last 7,7",
    "plan --model llama-2-7b --gpus 16 --pp 2 --account-for-embedding-in-pipeline-split "
    "--account-for-loss-in-pipeline-split",
    "plan --model llama-3-8b --lora-rank 16 --lora-targets all --base-quant nf4 --paged-optimizer --compare-finetune",
    "plan --model gpt2-124m --framework pytorch --micro-batch 8 --seq 1024",
    "plan --model gpt2-124m --framework llmplan --micro-batch 8 --seq 1024",
    f"plan --model gpt2-124m --framework llmplan --micro-batch 8 --seq 1024 --calibration {CALIBRATION}",
    f"plan --model llama-2-7b --gpus 2 --zero 1 --calibration {COLLECTIVES}",
    "plan --model llama-2-70b --gpus 64 --tp 8 --pp 2 --sp --framework megatron --recompute full",
    "plan --model llama-2-7b --gpus 8 --zero 3 --framework deepspeed --offload optimizer+params",
    "plan --model llama-2-7b --gpus 8 --zero 2 --framework deepspeed --framework-option reduce_bucket_size=2e8",
    "plan --model llama-3-8b --gpus 8 --zero 3 --framework torchtitan --precision fp8",
    "plan --model mixtral-8x7b --gpus 32 --tp 2 --ep 8 --sp --zero 1 --precision fp8",
    "plan --model deepseek-v3 --gpus 2048 --tp 2 --pp 16 --pp-layers balanced --ep 64 --sp --zero 1",
    "plan --params 13B --gpus 64 --zero 2 --precision mixed-fp16 --optimizer adafactor --gpu a100-80g --mfu 0.5",
    "plan --model llama-2-7b --gpus 1024 --zero 1 --mtbf-hours 50000 --checkpoint-minutes 2 --restart-minutes 10 "
    "--batch-rampup 10B --power-limit 500 --peak-flops 900T",
    "plan --model llama-2-7b --gpus 64 --zero 1 --goodput 0.9 --cluster {cluster}",
    "plan --model llama-2-70b --gpus 8 --zero 3 --gpu-memory 40GiB",
    f"plan --hf-config {os.path.join(DATA, 'hf', 'tiny-gemma3_text.json')} --gpus 2 --cp 2 --dropout 0.1",
    "plan --model gpt2-124m --framework pytorch --framework-option optimizer_impl=foreach --micro-batch 4 "
    "--global-batch 16 --recompute selective",
    "plan --model tinyllama-1.1b --framework pytorch --framework-option trainer=hf --gpus 2 --zero 1 --micro-batch 2",
    "plan --model tinyllama-1.1b --framework pytorch --compile --micro-batch 2 --recompute full",
    f"plan --deepspeed {os.path.join(DATA, 'imports', 'ds_zero3_offload.json')} --model llama-2-7b --gpus 8",
    f"plan --megatron-args {os.path.join(DATA, 'imports', 'megatron_llama2_7b.sh')}",
    f"plan --torchtitan {os.path.join(DATA, 'imports', 'torchtitan_llama3_8b.toml')}",
    f"search --torchtitan {os.path.join(DATA, 'imports', 'torchtitan_llama3_8b.toml')} --quiet --top 3",
    f"infer --vllm-args {os.path.join(DATA, 'imports', 'vllm_serve.sh')}",
    "search --model llama-2-7b --gpus 64 --quiet",
    "search --model mixtral-8x7b --gpus 64 --quiet --top 3",
    "search --model llama-2-70b --gpus 30 --quiet --rank memory --max-pp 6",
    "search --model llama-2-13b --gpus 48 --quiet --top 20",
    "search --model gpt2-124m --gpus 1 --gpu-memory 1GiB --micro-batches 1024 --quiet",
    "scaling --compute 5.76e23",
    "scaling --params 70B --tokens 1.4T --law chinchilla",
    "scaling --gpu-hours 1e6 --gpu a100-80g --inference-tokens 1e13",
    "scaling --budget 1e6 --then-plan --gpus 64",
    "scaling --gpus 1024 --days 30 --flops exact --seq 4096",
    "scaling --isoflop 1e20,1e21 --points 5 --law kaplan",
    "scaling --tokens 1T --law tokens-per-param --tokens-per-param 25",
    f"scaling --fit {FIT_CSV} --compute 1e22 --bootstrap 5 --out {{tmp}}/law.json",
    "scaling --params 7B --law chinchilla-unrounded",
    "infer --model llama-3-8b",
    "infer --model llama-2-70b --weights int4 --tp 4 --batch 32 --prompt 2048 --generate 512 --kv-cache fp8",
    "infer --model llama-3-8b --framework vllm --gpu-memory-utilization 0.85 --batch 64",
    "infer --model gpt2-124m --framework hf --forward-only --autograd --attention eager",
    "infer --model llama-2-7b --weights nf4 --no-double-quant --prefill-chunk 256",
    "infer --model deepseek-v3 --weights fp8 --tp 8 --gpu h200",
    "infer --model mixtral-8x7b --weights int8 --tp 2 --batch 8",
    "infer --model nemotron-3-super --gpu gb300 --tp 2 --framework vllm --batch 4",
    "plan --model nemotron-3-super --gpu gb300 --gpus 64 --gpus-per-node 72 --ep 64 --zero 1 --seq 8192 --global-batch 64 "
    "--precision nvfp4 --framework megatron --framework-option first_last_layers_bf16=true --framework-option num_layers_at_end_in_bf16=14",
    f"infer --hf-config {os.path.join(DATA, 'hf', 'tiny-llama4_text.json')} --framework vllm",
    f"infer --hf-config {os.path.join(DATA, 'hf', 'tiny-gemma2.json')} --batch 4",
    f"profile --hf-config {GPT2} --device cpu --precision fp32 --micro-batch 2 --seq 16 --steps 2 --warmup 1",
    f"profile --hf-config {LLAMA} --device cpu --precision fp32 --micro-batch 2 --seq 16 --steps 2 --warmup 1 "
    "--recompute full --attention eager --framework llmplan",
    "models",
    "models llama-2-70b",
    "models deepseek-v3",
    "models mixtral-8x7b",
    f"models --hf-config {os.path.join(DATA, 'hf', 'pythia-160m.json')}",
    f"models --hf-config {os.path.join(DATA, 'hf', 'tiny-qwen3_moe.json')}",
    "gpus",
]

# Reports checked into the repository, by file pattern (each names its schema inside).
FIXTURES = ["validation/**/*.json", "docs/**/*.json", "bench/results/**/*.json"]


def strict_load(text, what):
    def refuse(name):
        raise ValueError(f"{what}: {name} is not a finite number")
    return json.loads(text, parse_constant=refuse)


def load_schemas():
    schemas = {}
    for path in sorted(glob.glob(os.path.join(SCHEMAS, "*.schema.json"))):
        with open(path) as f:
            schemas[os.path.basename(path)] = strict_load(f.read(), path)
    return schemas


def schema_file(name):
    """The schema file of a report's "schema" value: llmplan.plan/1 -> plan-1.schema.json."""
    assert name.startswith("llmplan.") and "/" in name, name
    kind, version = name[len("llmplan."):].split("/")
    return f"{kind}-{version}.schema.json"


def generate(folder):
    """Runs every command; returns [(label, report)] including the files the commands wrote."""
    cluster = os.path.join(folder, "cluster.json")
    with open(cluster, "w") as f:
        json.dump(CLUSTER_FILE, f)
    reports = [("cluster file", cluster, "cluster-1.schema.json")]
    for i, command in enumerate(COMMANDS):
        args = shlex.split(command.format(tmp=folder, cluster=cluster)) + ["--json"]
        p = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=600)
        # search exits 1 where no layout fits, after printing its report (layouts: []).
        ok = p.returncode == 0 or (p.returncode == 1 and args[0] == "search" and not p.stderr)
        assert ok, f"llmplan {command}: exit {p.returncode}: {p.stderr}"
        out = os.path.join(folder, f"report-{i:02d}.json")
        with open(out, "w") as f:
            f.write(p.stdout)
        reports.append((f"llmplan {command}", out, None))
    reports.append(("scaling --fit --out", os.path.join(folder, "law.json"), "law-1.schema.json"))
    return reports


def fixtures():
    found = []
    for pattern in FIXTURES:
        for path in sorted(glob.glob(os.path.join(SOURCE, pattern), recursive=True)):
            with open(path) as f:
                j = json.load(f)
            name = j.get("schema") if isinstance(j, dict) else None
            # Only the tool's own reports: the measurement scripts' files (llmplan.*_measurements,
            # llmplan.published_*, llmplan.pytorch_baseline) are written by Python scripts
            # beside their data and described there.
            if isinstance(name, str) and os.path.exists(os.path.join(SCHEMAS, schema_file(name))):
                found.append((os.path.relpath(path, SOURCE), path, None))
    return found


@pytest.fixture(scope="module")
def schemas():
    return load_schemas()


@pytest.fixture(scope="module")
def registry(schemas):
    return {s["$id"]: s for s in schemas.values()}


def strict(schema):
    """A copy in which every object with `properties` and no `additionalProperties` takes no other key."""
    s = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node and "patternProperties" not in node:
                node["additionalProperties"] = False
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(s)
    return s


def validate(instance, schema, registry, strict_mode):
    store = {k: (strict(v) if strict_mode else v) for k, v in registry.items()}
    root = strict(schema) if strict_mode else schema
    resolver = jsonschema.RefResolver.from_schema(root, store=store)
    validator = jsonschema.Draft202012Validator(root, resolver=resolver, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    return ["/".join(str(p) for p in e.absolute_path) + ": " + e.message[:300] for e in errors[:10]]


def test_every_schema_is_a_valid_draft_2020_12_schema(schemas):
    assert len(schemas) >= 13
    ids = set()
    for name, schema in schemas.items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
        assert schema["$id"] not in ids, name
        ids.add(schema["$id"])
        assert schema.get("title") and schema.get("description"), name


def test_every_schema_name_in_the_code_has_a_schema_file():
    # The schema names the C++ sources write (planner/report.h, profiler/, gui/scenario.cpp).
    names = set()
    for folder in ("planner", "profiler", "cli", "gui", "core"):
        for path in glob.glob(os.path.join(SOURCE, folder, "*.[ch]*")):
            with open(path, encoding="utf-8") as f:
                text = f.read()
            names.update(re.findall(r'"(llmplan\.[a-z_]+/[0-9]+)"', text))
    assert len(names) >= 11, names
    missing = [n for n in sorted(names) if not os.path.exists(os.path.join(SCHEMAS, schema_file(n)))]
    assert missing == []


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return generate(str(tmp_path_factory.mktemp("reports")))


@pytest.mark.parametrize("strict_mode", [False, True], ids=["published", "strict"])
def test_generated_reports_match_their_schemas(generated, schemas, registry, strict_mode):
    kinds = set()
    failures = []
    for label, path, name in generated:
        with open(path) as f:
            report = strict_load(f.read(), label)
        name = name or schema_file(report["schema"])
        kinds.add(name)
        errors = validate(report, schemas[name], registry, strict_mode)
        if errors:
            failures.append(f"{label} ({name}):\n  " + "\n  ".join(errors))
    assert failures == []
    # Every kind the CLI writes was produced at least once.
    assert kinds >= {"plan-1.schema.json", "search-1.schema.json", "scaling-1.schema.json", "infer-1.schema.json",
                     "profile-1.schema.json", "models-1.schema.json", "model-1.schema.json", "gpus-1.schema.json",
                     "law-1.schema.json", "cluster-1.schema.json"}


@pytest.mark.parametrize("strict_mode", [False, True], ids=["published", "strict"])
def test_checked_in_reports_match_their_schemas(schemas, registry, strict_mode):
    found = fixtures()
    failures = []
    kinds = set()
    for label, path, _ in found:
        with open(path) as f:
            report = strict_load(f.read(), label)
        name = schema_file(report["schema"])
        kinds.add(name)
        errors = validate(report, schemas[name], registry, strict_mode)
        if errors:
            failures.append(f"{label} ({name}):\n  " + "\n  ".join(errors))
    assert failures == []
    assert kinds >= {"profile-1.schema.json", "calibration-1.schema.json", "nccl_busbw-1.schema.json",
                     "scenario-1.schema.json", "model-1.schema.json"}


def test_a_schema_rejects_what_a_report_must_not_hold(schemas, registry):
    """The schemas can fail: a negative size, a missing required key, a wrong schema name."""
    p = subprocess.run([CLI, "plan", "--model", "llama-2-7b", "--json"], capture_output=True, text=True, check=True)
    report = strict_load(p.stdout, "plan")
    schema = schemas["plan-1.schema.json"]
    assert validate(report, schema, registry, True) == []
    bad = copy.deepcopy(report)
    bad["memory"]["per_gpu"]["activations_bytes"] = -1
    assert validate(bad, schema, registry, False) != []
    bad = copy.deepcopy(report)
    bad["memory"]["per_gpu"]["parameters_bytes"] = 1.5
    assert validate(bad, schema, registry, False) != []
    bad = copy.deepcopy(report)
    del bad["time"]
    assert validate(bad, schema, registry, False) != []
    bad = copy.deepcopy(report)
    bad["schema"] = "llmplan.plan/2"
    assert validate(bad, schema, registry, False) != []
    bad = copy.deepcopy(report)
    bad["inputs"]["new_key"] = 1  # open for additions, closed in the strict copy
    assert validate(bad, schema, registry, False) == []
    assert validate(bad, schema, registry, True) != []


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--dump":
        os.makedirs(sys.argv[2], exist_ok=True)
        for label, path, name in generate(sys.argv[2]) + fixtures():
            print(name or "", path, label)
    else:
        sys.exit("usage: test_schemas.py --dump DIR (the tests run under pytest)")
