"""The order-book collector (a separate async process recording Kraken's books): not built yet.

No issue has asked for it so far; the package exists because the layout reserves it.
"""
