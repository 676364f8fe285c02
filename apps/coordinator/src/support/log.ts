import winston from 'winston';

/** Pretty lines on a terminal (plain lines otherwise), and JSON lines in the sweep's log file. */
export function createLogger(logFile: string | null, level = process.env.ADVX_LOG_LEVEL ?? 'info'): winston.Logger {
  const tty = process.stderr.isTTY;
  const transports: winston.transport[] = [
    new winston.transports.Console({
      stderrLevels: ['error', 'warn', 'info', 'debug'],
      format: winston.format.combine(
        ...(tty ? [winston.format.colorize()] : []),
        winston.format.timestamp({ format: 'HH:mm:ss' }),
        winston.format.printf(({ level: l, message, timestamp, ...meta }) => {
          const extra = Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : '';
          return `${timestamp} ${l} ${message}${extra}`;
        }),
      ),
    }),
  ];
  if (logFile) transports.push(new winston.transports.File({ filename: logFile, format: winston.format.combine(winston.format.timestamp(), winston.format.json()) }));
  return winston.createLogger({ level, transports });
}
