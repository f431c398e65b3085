"""llmplan — what an LLM training or serving job will cost, before it runs.

Each function runs the llmplan command line in this process (the extension llmplan._llmplan
calls the same code as the `llmplan` program) and returns its JSON report as a dict: the same
keys and the same numbers as `llmplan COMMAND --json` (docs/REPORTS.md; JSON Schemas in
schemas/). Keyword arguments are the command's flags, named as on the command line with `_` for
`-`; what is left out takes the command line's default:

    llmplan.plan(model="llama-3-8b", gpus=8, zero=3, micro_batch=2, recompute="full")
    ==  llmplan plan --model llama-3-8b --gpus 8 --zero 3 --micro-batch 2 --recompute full --json

Values: True adds a flag without a value (sp=True: --sp), False and None leave it out; a list
or tuple is joined with commas (micro_batches=[1, 2, 4]: --micro-batches 1,2,4); a dict gives
the flag once per item as KEY=VALUE (framework_option={"reduce_bucket_size": 2e8}); numbers
and strings are passed as text ("7B", "80GiB" work as on the command line).

Bad input (an unknown flag, a bad value, an invalid combination: the command line's exit code 2)
raises ValueError with the command line's one-line message; any other failure (exit code 1)
raises RuntimeError, except where the program answers "none" with its whole report (search
where no layout fits: exit code 1, no error line), which is returned. Warnings the command line prints on standard error are issued as
llmplan.LlmplanWarning. Usage and an example: docs/PYTHON.md.
"""

import json as _json
import warnings as _warnings

from . import _llmplan

__version__ = _llmplan.__version__
__all__ = ["plan", "search", "scaling", "infer", "models", "gpus", "LlmplanWarning"]


class LlmplanWarning(UserWarning):
    """A warning line the command line printed on standard error (e.g. ZeRO-3 on one rank)."""


# The package asks for the JSON report itself; these flags would ask for other output.
_OUTPUT_FLAGS = ("json", "csv", "help", "version")


def _text(value):
    """A value as the command line's text: integral floats without '.0', exponents without '+'."""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2.0**53:
            return str(int(value))
        return repr(value).replace("e+", "e")
    return str(value)


def _flags(command, options):
    args = []
    for key, value in options.items():
        if key in _OUTPUT_FLAGS:
            raise TypeError(f"llmplan.{command}(): {key}= is not taken: the package always returns the JSON report")
        flag = "--" + key.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            args.append(flag)
        elif isinstance(value, dict):
            args.extend(f"{flag}={k}={_text(v)}" for k, v in value.items())
        elif isinstance(value, (list, tuple, range)):
            args.append(f"{flag}=" + ",".join(_text(v) for v in value))
        else:
            args.append(f"{flag}={_text(value)}")
    return args


def _run(args):
    """Runs `llmplan ARGS...` in-process: (exit code, stdout text, stderr text)."""
    code, out, err = _llmplan.run([str(a) for a in args])
    return code, out.decode("utf-8", errors="replace"), err.decode("utf-8", errors="replace")


def _report(command, positional, options):
    args = [command, *_flags(command, options), "--json"]
    if positional:  # after "--": a name is never read as a flag
        args += ["--", *positional]
    code, out, err = _run(args)
    lines = [line for line in err.splitlines() if line.strip()]
    if code == 2:
        raise ValueError(lines[-1] if lines else f"llmplan {command}: bad input (exit code 2)")
    # Exit code 1 with the whole report and no error line is the program's answer "none"
    # (search: no layout fits), which the report says itself (`layouts` empty, `fitting` 0).
    answered_none = code == 1 and not lines and out.strip()
    if code != 0 and not answered_none:
        raise RuntimeError(lines[-1] if lines else f"llmplan {command}: failed (exit code {code})")
    for line in lines:
        _warnings.warn(line, LlmplanWarning, stacklevel=3)
    try:
        return _json.loads(out)
    except ValueError as e:  # an llmplan bug: --json printed something else
        raise RuntimeError(f"llmplan {command}: the report is not JSON ({e})") from None


def plan(**options):
    """Memory, time and cost of one training job: the llmplan.plan/1 report."""
    return _report("plan", [], options)


def search(**options):
    """The fastest parallel layouts that fit: the llmplan.search/1 report (quiet unless quiet=False)."""
    options.setdefault("quiet", True)
    return _report("search", [], options)


def scaling(**options):
    """Scaling-law questions (compute-optimal size, budgets, fits): the llmplan.scaling/1 report."""
    return _report("scaling", [], options)


def infer(**options):
    """Serving memory and speed: the llmplan.infer/1 report."""
    return _report("infer", [], options)


def models(name=None, **options):
    """The presets (llmplan.models/1), or one model's shape and parameter count (name or
    hf_config: llmplan.model/1)."""
    return _report("models", [] if name is None else [name], options)


def gpus(**options):
    """The GPU catalog: the llmplan.gpus/1 report."""
    return _report("gpus", [], options)


def _add_help(function, command):
    code, out, _ = _run([command, "--help"])
    if code == 0 and out:
        function.__doc__ = (f"{function.__doc__}\n\nKeyword arguments are the flags of `llmplan {command}` "
                            f"(`-` written `_`; --json is implied):\n\n{out}")


for _function, _command in ((plan, "plan"), (search, "search"), (scaling, "scaling"), (infer, "infer"),
                            (models, "models"), (gpus, "gpus")):
    _add_help(_function, _command)
del _function, _command
