/** Longest text LINE accepts in one text message. */
export const MAX_MESSAGE_LENGTH = 5000

/** Largest image LINE accepts (originalContentUrl). */
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024
