"""The web app: a cited chat, clause search, the table of contents and an about page, plus a JSON API.

It talks to the knowledge base only through ``kb.KnowledgeBase``; every piece of
document text is escaped before it becomes HTML (see ``app.markup``).
"""
