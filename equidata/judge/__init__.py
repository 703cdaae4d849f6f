"""An LLM judge through any OpenAI-compatible chat-completions server: labels, MHD synthesis, segment values."""

from equidata.judge.client import Ask, BudgetExhausted, Failure, JudgeClient, JudgeConfig, JudgeError, JudgeStats

__all__ = ["Ask", "BudgetExhausted", "Failure", "JudgeClient", "JudgeConfig", "JudgeError", "JudgeStats"]
