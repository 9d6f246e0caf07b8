"""The exact LangChain code behind each mode, shown on every page."""

from __future__ import annotations

import streamlit as st

from ui.i18n import t

CHAIN_CODE = '''from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from langchain_openai import ChatOpenAI

prompt = ChatPromptTemplate.from_template("Tell me a short joke about {topic}")
model = ChatOpenAI(model="gpt-4o-mini", timeout=30, max_retries=2)
chain = {"topic": RunnablePassthrough()} | prompt | model | StrOutputParser()
'''

MODE_CODE: dict[str, str] = {
    "invoke": 'answer = chain.invoke("ice cream")',
    "loop": '''answers = []
for topic in ["ice cream", "chocolate", "vanilla"]:
    answers.append(chain.invoke(topic))  # one after another: time grows linearly''',
    "batch": '''topics = ["ice cream", "chocolate", "vanilla"]
answers = chain.batch(topics, config={"max_concurrency": 8}, return_exceptions=True)

# or, to use each answer as soon as it is ready:
for index, answer in chain.batch_as_completed(topics, return_exceptions=True):
    print(index, answer)''',
    "stream": '''for chunk in chain.stream("ice cream"):
    print(chunk, end="!!", flush=True)  # the seed's chunk separator''',
    "ainvoke": '''import asyncio

answer = asyncio.run(chain.ainvoke("ice cream"))''',
    "abatch": '''import asyncio

answers = asyncio.run(chain.abatch(topics))                                 # all at once (gather)
answers = asyncio.run(chain.abatch(topics, config={"max_concurrency": 2}))  # 2 at a time''',
    "astream": '''import asyncio

async def stream_one(topic: str) -> str:
    text = ""
    async for chunk in chain.astream(topic):
        text += chunk
    return text

async def stream_all(topics: list[str]) -> list[str]:
    return await asyncio.gather(*(stream_one(topic) for topic in topics))

answers = asyncio.run(stream_all(["ice cream", "chocolate", "vanilla"]))''',
}


def show_code(*modes: str, expanded: bool = False) -> None:
    """Show the chain and the calls for ``modes`` in a "show the code" expander."""
    with st.expander(t("common.show_code"), expanded=expanded, icon="🧑‍💻"):
        st.code(CHAIN_CODE, language="python")
        for mode in modes:
            st.code(MODE_CODE[mode], language="python")
