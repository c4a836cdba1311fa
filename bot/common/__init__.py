"""What the bot, the simulator and the checks all need and none of them owns: credential files
(:mod:`bot.common.secrets`) and redaction (:mod:`bot.common.redact`). Nothing here imports the
bot's trading modules or the simulator."""
