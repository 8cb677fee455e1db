// IAM actions the MCP server's role gets beyond what the stores' grant methods give.

/** `<view>_similar` embeds query text with the view's foundation model. */
export const EMBED_QUERY_ACTIONS = ['bedrock:InvokeModel'];
