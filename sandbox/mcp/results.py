"""What a proxied tool call returns: the CallToolResult JSON as a real dict, plus
shortcuts, so `result["content"][0]["text"]` (the original's shape) and
`json.dumps(result)` both work. And what a search returns: a list that also says which
servers it could not cover."""

from __future__ import annotations

from typing import Any

from mcp._rpc import MCPError


class ToolResult(dict[str, Any]):
    """A CallToolResult: `content`, `structuredContent?`, `isError?`.

    Shortcuts: `.text` (the text items joined by newlines), `.data` (structured
    content, else the text parsed as JSON, else the text), `.is_error`, `.content`,
    `.images`, and `.raise_for_error()`."""

    __slots__ = ()

    @property
    def content(self) -> list[dict[str, Any]]:
        content = self.get("content")
        return (
            [item for item in content if isinstance(item, dict)]
            if isinstance(content, list)
            else []
        )

    @property
    def text(self) -> str:
        return "\n".join(
            item["text"]
            for item in self.content
            if item.get("type") == "text" and isinstance(item.get("text"), str)
        )

    @property
    def data(self) -> Any:
        if self.get("structuredContent") is not None:
            return self["structuredContent"]
        import json

        text = self.text
        try:
            return json.loads(text)
        except ValueError:
            return text

    @property
    def is_error(self) -> bool:
        return self.get("isError") is True

    @property
    def images(self) -> list[dict[str, Any]]:
        """Image items: `{"type": "image", "data": <base64>, "mimeType": ...}`."""
        return [item for item in self.content if item.get("type") == "image"]

    def raise_for_error(self) -> ToolResult:
        """Raises MCPError (with the tool's text) if the tool reported an error."""
        if self.is_error:
            raise MCPError(self.text or "the tool reported an error")
        return self


class SearchResults(list[dict[str, Any]]):
    """`search_tool_docs()` hits, best first: a real list (`json.dumps` works), plus
    `.not_searched`: `[{server, reason}]` for configured servers whose tools are not known
    yet (never started, nothing cached); a search never starts a server. Printing the
    list names them, so an empty result is not mistaken for "no such tool"."""

    def __init__(self, hits: list[dict[str, Any]], not_searched: list[dict[str, Any]]) -> None:
        super().__init__(hits)
        self.not_searched = not_searched

    def __repr__(self) -> str:
        text = super().__repr__()
        if not self.not_searched:
            return text
        names = ", ".join(str(entry.get("server")) for entry in self.not_searched)
        return f"{text}  # not searched (tools unknown until named in servers): {names}"
