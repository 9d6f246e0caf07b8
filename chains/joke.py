"""The seed post's chain: ``{"topic": RunnablePassthrough()} | prompt | model | StrOutputParser()``."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnablePassthrough

JOKE_PROMPT = "Tell me a short joke about {topic}"


def build_joke_chain(model: BaseChatModel) -> Runnable[str, str]:
    """Build the seed's joke chain around any chat model.

    Args:
        model: The chat model (the simulator, ``ChatOpenAI``...).

    Returns:
        A runnable that takes a topic string and returns the joke as a string.
    """
    prompt = ChatPromptTemplate.from_template(JOKE_PROMPT)
    return {"topic": RunnablePassthrough()} | prompt | model | StrOutputParser()
