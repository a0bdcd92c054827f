"""The email outbox: messages written in the transaction of the change they
tell of, sent by a scheduled SES sender, with bounces and complaints fed
back. Depends on ``core`` only; every package above may queue an email."""
