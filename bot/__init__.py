"""MSP Assistant: a Making Safeguarding Personal assistant built on Rasa 3.6."""
